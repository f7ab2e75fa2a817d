"""The plain script a competent user would write for what ``toolkit run`` does on one split.

    python benchmarks/plain_script.py POSTS.csv [--epochs 10] [--batch-size 256] [--out DIR]

pandas reads the CSV; one row per user from the first week; the label "posted
again 7-28 days after the first post"; jieba + scikit-learn's TfidfVectorizer
(20,000 features, 1-2 grams, min_df 2, sublinear tf) beside a few behavior
aggregates; one stratified 80/20 split (seed 0); the toolkit's MLP (Dense 128,
BatchNorm, Dropout 0.2, Dense 64, BatchNorm, Dropout 0.2, sigmoid) on a sparse
input, Adam 0.001, balanced class weights, early stopping and learning-rate
cuts on a 15% validation part, whose max-F1 threshold scores the test part;
then, as ``toolkit run`` does, the final model trained on every user and saved.
It is the baseline of ``plain_vs_toolkit.py``; it imports nothing from the toolkit.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time

import numpy as np
import pandas as pd

CJK = re.compile(r"[\u4e00-\u9fff]+")


def parse_counts(s: pd.Series) -> np.ndarray:
    """``3829``, ``7.6万``, ``1万+``, ``1千+``, ``99+`` as numbers."""
    s = s.fillna("0").astype(str).str.strip().str.rstrip("+")
    scale = np.where(s.str.endswith("万"), 1e4, np.where(s.str.endswith("千"), 1e3, 1.0))
    return pd.to_numeric(s.str.rstrip("万千"), errors="coerce").fillna(0).to_numpy() * scale


def users_and_labels(path: str) -> tuple[pd.DataFrame, np.ndarray]:
    posts = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    posts["time"] = pd.to_datetime(posts["create_time"], format="%m/%d/%Y %H:%M")
    posts["likes"] = parse_counts(posts["like_count"])
    posts["date"] = posts["time"].dt.normalize()
    first = posts.groupby("user_id")["date"].transform("min")
    posts["day"] = (posts["date"] - first).dt.days
    first_user = posts.groupby("user_id")["date"].min()
    cohort = first_user[(first_user >= "2025-01-01") & (first_user <= "2025-02-14")
                        & (first_user + pd.Timedelta(days=28) <= posts["date"].max())]
    posts = posts[posts["user_id"].isin(cohort.index)]
    label = posts[(posts["day"] >= 7) & (posts["day"] <= 28)].groupby("user_id").size().reindex(cohort.index).notna()
    week = posts[posts["day"] <= 6].assign(text=lambda p: (p["title"] + "\n" + p["content"]).str.strip())
    g = week.groupby("user_id")
    users = pd.DataFrame({
        "n_posts": g.size(), "active_days": g["day"].nunique(),
        "log_like_sum": np.log1p(g["likes"].sum()), "log_like_max": np.log1p(g["likes"].max()),
        "video_share": (week["post_type"] == "video").groupby(week["user_id"]).mean(),
        "hour_mean": week["time"].dt.hour.groupby(week["user_id"]).mean(),
        "text": g["text"].agg("\n".join),
    }).reindex(cohort.index.sort_values())
    return users, label.reindex(users.index).to_numpy().astype(int)


def tokenize(text: str) -> list[str]:
    import jieba

    return [w for w in jieba.lcut(text.lower()) if w.strip() and (w.isalnum() or CJK.fullmatch(w))]


def features(train_text, other_texts, train_num, other_nums):
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import StandardScaler

    tfidf = TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2),
                            min_df=2, max_features=20000, sublinear_tf=True, dtype=np.float32)
    scaler = StandardScaler()
    train = sp.hstack([tfidf.fit_transform(train_text), scaler.fit_transform(train_num)], format="csr")
    others = [sp.hstack([tfidf.transform(t), scaler.transform(n)], format="csr") for t, n in zip(other_texts, other_nums)]
    return train.astype(np.float32), [o.astype(np.float32) for o in others]


def mlp(width: int):
    import keras

    inp = keras.Input(shape=(width,), sparse=True)
    x = inp
    for units in (128, 64):
        x = keras.layers.Dropout(0.2)(keras.layers.BatchNormalization()(keras.layers.Dense(units, activation="relu")(x)))
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="binary_crossentropy")
    return model


def train(x, y, epochs: int, batch_size: int, seed: int = 0):
    """Fit on 85%, early-stop on 15%; returns the model and the max-F1 threshold on that 15%."""
    import keras
    from sklearn.metrics import precision_recall_curve
    from sklearn.model_selection import train_test_split

    keras.utils.set_random_seed(seed)
    fit, val = train_test_split(np.arange(len(y)), test_size=0.15, stratify=y, random_state=seed)
    model = mlp(x.shape[1])
    weights = {0: len(y) / (2.0 * (y == 0).sum()), 1: len(y) / (2.0 * (y == 1).sum())}
    model.fit(x[fit], y[fit], validation_data=(x[val], y[val]), epochs=epochs, batch_size=batch_size,
              class_weight=weights, verbose=0, callbacks=[
                  keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True),
                  keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.5)])
    p, r, t = precision_recall_curve(y[val], model.predict(x[val], batch_size=1024, verbose=0).ravel())
    f1 = 2 * p * r / np.maximum(p + r, 1e-12)
    return model, float(t[np.argmax(f1[:-1])]) if len(t) else 0.5


def main(argv=None) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--out", default=None, help="folder for the final model (default: a temporary one)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    users, y = users_and_labels(args.csv)
    num = users.drop(columns="text").fillna(0).to_numpy(np.float32)
    tr, te = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
    x_tr, (x_te,) = features(users["text"].iloc[tr], [users["text"].iloc[te]], num[tr], [num[te]])
    model, threshold = train(x_tr, y[tr], args.epochs, args.batch_size)
    s = model.predict(x_te, batch_size=1024, verbose=0).ravel()
    result = {"users": len(y), "roc_auc": roc_auc_score(y[te], s), "pr_auc": average_precision_score(y[te], s),
              "threshold": threshold}
    x_all, _ = features(users["text"], [], num, [])
    final, _ = train(x_all, y, args.epochs, args.batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        final.save(f"{args.out or tmp}/model.keras")
    result["seconds"] = time.perf_counter() - start
    print(result)
    return result


if __name__ == "__main__":
    main()
