#!/usr/bin/env python3
"""Writes Tests/Fixtures/gcn_fixture.json: a PyTorch + torch_geometric reference for TasteGraph's GCN.

Run once by hand (CI never needs PyTorch):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch torch_geometric
    /tmp/torchenv/bin/python Tests/Fixtures/make_gcn_fixture.py

The model mirrors Sources/TasteGraphModel/GCN.swift with layer weights and ReLU on, so torch_geometric's
GCNConv (edge weights, self-loops, symmetric normalization) does the propagation:

    E0  = [U_emb ; I_emb + X W_x]
    H_l = relu(GCNConv_l(H_{l-1}))           GCNConv: D^-1/2 (A + I) D^-1/2 H W_l, no bias
    Z   = (E0 + H1 + H2) / 3
    yhat = s <z_u, z_i> + b_u + b_i + mu
    L   = mean (yhat - y)^2 + lam * mean softplus(-( (<z_u,z_i> + c_i) - (<z_u,z_j> + c_j) ))

It records the graph, the normalized adjacency, the initial weights, the loss, every gradient and the
losses of the first 10 AdamW steps (decay on embeddings and weights only), all in float32.
"""
import json
import math
import os

import torch
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

torch.manual_seed(7)
U, I, H, F = 5, 7, 4, 4
EDGES = [(0, 0, 3), (0, 1, 10), (0, 2, 1), (1, 0, 2), (1, 1, 4), (2, 1, 7), (2, 3, 1),
         (3, 4, 5), (3, 5, 2), (4, 5, 9), (4, 6, 1), (3, 6, 3)]
NEGATIVES = [5, 4, 6, 2, 0, 3, 5, 1, 0, 2, 3, 0]
FEATURES = [(0, 0, 0.6), (0, 3, 0.8), (1, 1, 1.0), (2, 0, 0.5), (2, 2, -0.5), (3, 3, 1.0), (4, 2, 0.3),
            (5, 1, -0.7), (6, 0, 0.2), (6, 3, 0.9)]
LAMBDA, LR, WD = 0.7, 0.01, 0.5

users = torch.tensor([u for u, _, _ in EDGES])
items = torch.tensor([i for _, i, _ in EDGES])
target = torch.log1p(torch.tensor([float(p) for _, _, p in EDGES]))
negatives = torch.tensor(NEGATIVES)
weight = torch.log1p(torch.tensor([float(p) for _, _, p in EDGES]))
# Undirected bipartite graph over nodes [users; items]: both directions.
edge_index = torch.stack([torch.cat([users, U + items]), torch.cat([U + items, users])])
edge_weight = torch.cat([weight, weight])
X = torch.zeros(I, F)
for r, c, v in FEATURES:
    X[r, c] = v

norm_index, norm_weight = gcn_norm(edge_index, edge_weight, num_nodes=U + I, add_self_loops=True)
adjacency = torch.zeros(U + I, U + I)
adjacency[norm_index[1], norm_index[0]] = norm_weight  # row = target node

convs = [GCNConv(H, H, bias=False) for _ in range(2)]
params = {
    "userEmbedding": torch.nn.Parameter(0.5 * torch.randn(U, H)),
    "itemEmbedding": torch.nn.Parameter(0.5 * torch.randn(I, H)),
    "textProjection": torch.nn.Parameter(0.5 * torch.randn(F, H)),
    "W1": convs[0].lin.weight,  # GCNConv computes x @ W.T: TasteGraph's W1 is this transposed
    "W2": convs[1].lin.weight,
    "userBias": torch.nn.Parameter(0.1 * torch.randn(U)),
    "itemBias": torch.nn.Parameter(0.1 * torch.randn(I)),
    "rankBias": torch.nn.Parameter(0.1 * torch.randn(I)),
    "globalMean": torch.nn.Parameter(torch.tensor([1.2])),
    "dotScale": torch.nn.Parameter(torch.tensor([0.8])),
}


def loss_fn():
    e0 = torch.cat([params["userEmbedding"], params["itemEmbedding"] + X @ params["textProjection"]])
    h1 = torch.relu(convs[0](e0, edge_index, edge_weight))
    h2 = torch.relu(convs[1](h1, edge_index, edge_weight))
    z = (e0 + h1 + h2) / 3
    zu, zi, zj = z[users], z[U + items], z[U + negatives]
    dot_i = (zu * zi).sum(1)
    dot_j = (zu * zj).sum(1)
    pred = params["dotScale"] * dot_i + params["userBias"][users] + params["itemBias"][items] + params["globalMean"]
    mse = ((pred - target) ** 2).mean()
    x = (dot_i + params["rankBias"][items]) - (dot_j + params["rankBias"][negatives])
    return mse + LAMBDA * torch.nn.functional.softplus(-x).mean()


def swift_layout(name, tensor):
    """Flattens a tensor the way TasteGraph lays it out (row-major, W transposed)."""
    t = tensor.detach()
    if name in ("W1", "W2"):
        t = t.t()
    return [float(v) for v in t.contiguous().reshape(-1)]


initial = {name: swift_layout(name, p) for name, p in params.items()}
loss = loss_fn()
loss.backward()
gradients = {name: swift_layout(name, p.grad) for name, p in params.items()}

for p in params.values():
    p.grad = None
decay = [params[n] for n in ("userEmbedding", "itemEmbedding", "textProjection", "W1", "W2")]
no_decay = [params[n] for n in ("userBias", "itemBias", "rankBias", "globalMean", "dotScale")]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}],
                              lr=LR, betas=(0.9, 0.999), eps=1e-8)
losses = []
for _ in range(10):
    optimizer.zero_grad()
    step_loss = loss_fn()
    losses.append(float(step_loss.detach()))
    step_loss.backward()
    optimizer.step()

fixture = {
    "format": "tastegraph-gcn-fixture",
    "version": 1,
    "generator": f"torch {torch.__version__}, torch_geometric GCNConv",
    "config": {"users": U, "items": I, "hidden": H, "features": F, "bpr_weight": LAMBDA,
               "layer_weights": True, "activation": "relu", "combine_layers": True,
               "learning_rate": LR, "weight_decay": WD},
    "edges": [list(e) for e in EDGES],
    "negatives": NEGATIVES,
    "features": [list(f) for f in FEATURES],
    "adjacency": [float(v) for v in adjacency.reshape(-1)],
    "initial": initial,
    "loss": float(loss),
    "gradients": gradients,
    "adam_losses": losses,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gcn_fixture.json")
with open(path, "w") as f:
    json.dump(fixture, f, indent=1)
print(f"wrote {path}: loss {fixture['loss']:.6f}, first Adam losses {[round(l, 6) for l in losses[:3]]}")
