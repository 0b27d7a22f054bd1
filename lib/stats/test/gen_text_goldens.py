#!/usr/bin/env python3
"""Generate text_goldens.h: Evidently 0.7.23's text content drift on
synthetic free-text columns, and scikit-learn's tokens of awkward strings.

The AUCs and verdicts come from Evidently itself
(abs_/perc_text_content_drift, which call scikit-learn 1.9 and numpy), so
run this with Evidently's environment:

    /opt/td-evidently-venv/bin/python lib/stats/test/gen_text_goldens.py

Each window's rows are passed sorted by text, reference then current: the
order the C library lays a value map's rows out in.  The C test hands the
library the distinct texts in another order (the order they were first
drawn), so it also checks that sorting.  A case where Evidently raises is
recorded as an error the C library must report too.
"""

import os
import random
import warnings

import pandas as pd
from evidently.legacy.calculations.stattests.text_content_drift import _perc_text_content_drift
from evidently.legacy.calculations.stattests.text_content_drift_abs import _abs_text_content_drift
from evidently.legacy.core import ColumnType
from evidently.legacy.utils.data_drift_utils import roc_auc_random_classifier_percentile
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "text_goldens.h")

TRIP_WORDS = (
    "taxi driver airport jfk laguardia fare tip rain traffic bridge tunnel meter cash "
    "card receipt late early night downtown brooklyn queens harlem toll detour luggage "
    "receipt smooth rude friendly clean dirty radio heater window seatbelt app surge"
).split()
OTHER_WORDS = (
    "snow storm parade marathon closure accident police siren construction flooding "
    "blizzard delay cancelled strike protest holiday concert stadium ferry subway"
).split()
STOP = "the and of to a was very it is in on for with at by from as be this that".split()
UNICODE_WORDS = [
    "Ταξί",
    "ΟΔΟΣ",
    "ΟΔΌΣ.",
    "ΣΑΣ",
    "İstanbul",
    "Straße",
    "ÉCOLE",
    "café",
    "東京駅",
    "Москва",
    "naïve",
    "x²",
    "١٢٣",
    "ǅemal",
    "\u212aelvin",
    "🚕ride",
    "a_b",
    "x1",
    "9",
    "Ⅻ",
    "½mile",
    "ﬁne",
    "Ǉubljana",
    "ὈΔΥΣΣΕΎΣ",
    "ΑΣ\u0345Σ",
    "Σ'Σ",
    "Aσ\u0301Σ",
]
SEPARATORS = [" ", " ", " ", ", ", ". ", "-", "'", "\n", "  ", "/", "!"]


def doc(rng, words, stop_share, n_words):
    out = []
    for _ in range(n_words):
        pool = STOP if rng.random() < stop_share else words
        out.append(rng.choice(pool))
    text = ""
    for i, w in enumerate(out):
        text += (rng.choice(SEPARATORS) if i else "") + w
    if rng.random() < 0.3:
        text = text.capitalize()
    if rng.random() < 0.1:
        text = text.upper()
    return text


def window(rng, n, words, stop_share=0.3, min_words=1, max_words=8, templates=None):
    rows = []
    for _ in range(n):
        if templates and rng.random() < 0.5:
            rows.append(rng.choice(templates))
        else:
            rows.append(doc(rng, words, stop_share, rng.randint(min_words, max_words)))
    return rows


def cases():
    rng = random.Random(20261207)
    base = TRIP_WORDS
    drifted = TRIP_WORDS[:20] + OTHER_WORDS
    uni = TRIP_WORDS[:10] + UNICODE_WORDS
    templates = ["Great ride", "late again", "ΟΔΟΣ ΣΑΣ", "", "the the", "JFK airport, no toll"]
    yield (
        "perc_same",
        "perc_text_content_drift",
        0.95,
        window(rng, 300, base),
        window(rng, 300, base),
    )
    yield (
        "perc_drift",
        "perc_text_content_drift",
        0.95,
        window(rng, 400, base),
        window(rng, 350, drifted),
    )
    yield (
        "perc_small",
        "perc_text_content_drift",
        0.95,
        window(rng, 25, base),
        window(rng, 40, drifted),
    )
    yield (
        "perc_threshold_0_9",
        "perc_text_content_drift",
        0.9,
        window(rng, 200, base),
        window(rng, 260, base[:25]),
    )
    yield (
        "abs_same",
        "abs_text_content_drift",
        0.55,
        window(rng, 1200, base),
        window(rng, 1100, base),
    )
    yield (
        "abs_drift",
        "abs_text_content_drift",
        0.55,
        window(rng, 1300, base),
        window(rng, 1200, drifted),
    )
    yield (
        "abs_threshold_0_6",
        "abs_text_content_drift",
        0.6,
        window(rng, 1050, base),
        window(rng, 900, base[5:]),
    )
    yield (
        "unicode",
        "abs_text_content_drift",
        0.55,
        window(rng, 600, uni, 0.2),
        window(rng, 500, uni[::-1][:20], 0.2),
    )
    yield (
        "unicode_perc",
        "perc_text_content_drift",
        0.95,
        window(rng, 150, UNICODE_WORDS, 0.1),
        window(rng, 150, UNICODE_WORDS, 0.1),
    )
    yield (
        "duplicates",
        "abs_text_content_drift",
        0.55,
        window(rng, 800, base, templates=templates),
        window(rng, 700, drifted, templates=templates),
    )
    yield (
        "long_docs",
        "abs_text_content_drift",
        0.55,
        window(rng, 300, base, 0.3, 20, 60),
        window(rng, 300, drifted, 0.3, 20, 60),
    )
    yield (
        "tiny",
        "perc_text_content_drift",
        0.95,
        ["taxi fare", "late driver", "tip"],
        ["snow storm", "taxi delay", "parade day"],
    )
    yield (
        "one_word_everywhere",
        "abs_text_content_drift",
        0.55,
        ["taxi " + d for d in window(rng, 60, base)],
        ["taxi " + d for d in window(rng, 60, drifted)],
    )
    yield (
        "error_stop_words_only",
        "abs_text_content_drift",
        0.55,
        window(rng, 50, STOP, 1.0),
        window(rng, 50, STOP, 1.0),
    )
    yield "error_two_rows", "perc_text_content_drift", 0.95, ["taxi fare"], ["snow storm"]
    yield "error_same_word", "abs_text_content_drift", 0.55, ["taxi"] * 20, ["Taxi!"] * 20


def evidently(test, threshold, ref, cur):
    fn = _abs_text_content_drift if test == "abs_text_content_drift" else _perc_text_content_drift
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            auc, drifted = fn(
                pd.Series(sorted(ref)), pd.Series(sorted(cur)), ColumnType.Text, threshold
            )
        except ValueError as e:
            return None, None, str(e)
    return float(auc), bool(drifted), None


def random_percentile(threshold, ref, cur):
    """perc_'s bound: Evidently's roc_auc_random_classifier_percentile on the same test labels."""
    domain = pd.concat(
        [
            pd.DataFrame({"text": pd.Series(sorted(ref)), "target": 0}),
            pd.DataFrame({"text": pd.Series(sorted(cur)), "target": 1}),
        ]
    )
    _, _, _, y_test = train_test_split(
        domain["text"], domain["target"], test_size=0.5, random_state=42, shuffle=True
    )
    return float(roc_auc_random_classifier_percentile(y_test, p_value=1 - threshold))


def c_string(s):
    out = '"'
    for b in s.encode("utf-8"):
        ch = chr(b)
        if ch == '"' or ch == "\\":
            out += "\\" + ch
        elif 32 <= b < 127 and ch != "?":
            out += ch
        else:
            out += "\\%03o" % b
    return out + '"'


TOKEN_STRINGS = [
    "The taxi WAS late, very late!!",
    "a an the",
    "x x1 1x _ __ a_b",
    "ΟΔΟΣ ΟΔΟΣ. ΣΑΣ Σ ΑΣ\u0345Σ",
    "ὈΔΥΣΣΕΎΣ",
    "Σ'Σ Aσ\u0301Σ AΣ\u0301",
    "İstanbul İİ",
    "Straße STRASSE",
    "\u212aelvin \u212a",
    "東京駅で降りる",
    "naïve café ÉCOLE",
    "x² ½mile Ⅻ ١٢٣",
    "🚕ride 🚕🚕",
    "ǅemal Ǉubljana ǈ",
    "ﬁne ﬁ",
    "don't can't won't",
    "ΑʰΣ ΑΣʰΑ ΑʰΣʰ xΣ 1Σ Σ",
    "ΑΣ­Σ ΑΣ­",
    "e-mail e_mail",
    "\u00a0nbsp\u00a0sep\u2003em",
    "tab\tnew\nline",
    "",
    "  ",
    "ab",
    "a",
    "ÀÉÎÕÜ àéîõü",
    "Ωmega ΩΩ",
    "mixedCASE MiXeD",
    "ǰ ǰǰ",
    "ﬀ ﬃ",
    "Ꭰ Ꭱ ꭰ",
]


def analyzer():
    return TfidfVectorizer(sublinear_tf=True, max_df=0.5, stop_words="english").build_analyzer()


def main():
    analyze = analyzer()
    rng = random.Random(7)
    with open(OUT, "w") as f:
        w = f.write
        w(
            "/* GENERATED by gen_text_goldens.py from Evidently 0.7.23 / scikit-learn: do not edit. */\n\n"
        )
        w(
            "typedef struct text_token_golden\n{\n\tconst char *text;\n\tconst char *tokens; /* space-separated */\n} text_token_golden;\n\n"
        )
        w("static const text_token_golden text_token_goldens[] = {\n")
        for s in TOKEN_STRINGS:
            w(f"\t{{{c_string(s)}, {c_string(' '.join(analyze(s)))}}},\n")
        w("};\n\n")
        w(
            "typedef struct text_golden\n{\n\tconst char *name;\n\tconst char *test;\n\tdouble threshold;\n"
            "\tsize_t m;\n\tconst char *const *texts;\n\tconst int64_t *ref;\n\tconst int64_t *cur;\n"
            "\tint error;\n\tdouble auc;\n\tint drifted;\n"
            "\tdouble random_auc_percentile; /* perc_ only; 0 for abs_ */\n} text_golden;\n\n"
        )
        entries = []
        for name, test, threshold, ref, cur in cases():
            auc, drifted, error = evidently(test, threshold, ref, cur)
            distinct = list(dict.fromkeys(ref + cur))
            rng.shuffle(distinct)
            w(f"static const char *const {name}_texts[] = {{\n")
            for t in distinct:
                w(f"\t{c_string(t)},\n")
            w("};\n")
            w(
                f"static const int64_t {name}_ref[] = {{{', '.join(str(ref.count(t)) for t in distinct)}}};\n"
            )
            w(
                f"static const int64_t {name}_cur[] = {{{', '.join(str(cur.count(t)) for t in distinct)}}};\n\n"
            )
            if error:
                result = "1, 0, 0, 0"
                print(f"{name}: error {error}")
            else:
                bound = random_percentile(threshold, ref, cur) if test.startswith("perc") else 0.0
                result = f"0, {auc!r}, {int(drifted)}, {bound!r}"
                print(f"{name}: {test} auc={auc!r} drifted={drifted} bound={bound!r}")
            entries.append(
                f'\t{{"{name}", "{test}", {threshold!r}, {len(distinct)}, {name}_texts, '
                f"{name}_ref, {name}_cur, {result}}},\n"
            )
        w("static const text_golden text_goldens[] = {\n")
        for e in entries:
            w(e)
        w("};\n")


if __name__ == "__main__":
    main()
