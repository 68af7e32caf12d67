#!/usr/bin/env python3
"""Learns the weights of the local-manipulation score (`[local.score_weights]` and
`copy_move_score_weight` in models/tamper.toml).

The score is a weighted sum, over the local methods, of ln(1 + peak / threshold) for each map's peak
(and the copy-move finding's score): a logistic regression of "edited" on those features, with every
weight kept at zero or above so that each method can only add evidence. Trained on the cases that
`idforensics eval-tamper --captured --save-cases DIR` writes (edits under forged/, unedited captures and
their re-saves under genuine/), each analysed by `idforensics analyze --json`. Standard library only.

    for seed in 4 5; do
      idforensics eval-tamper --captured --cards 40 --seed $seed --save-cases cases-$seed
      idforensics analyze --json cases-$seed/*/*.jpg > cases-$seed.jsonl
    done
    scripts/train_local_score.py models/tamper.toml cases-4.jsonl cases-5.jsonl
"""
import json
import math
import sys
import tomllib

MAPS = ["error_level", "noise", "double_quantization", "foreign_grid", "sharpness"]
STEPS, RATE, L2 = 20000, 0.5, 0.01


def features(result, thresholds):
    metrics = result["tamper"]["metrics"]
    peaks = [max(float(metrics.get(f"{name}_peak_score", 0.0)), 0.0) for name in MAPS]
    row = [math.log1p(peak / thresholds[name]) for peak, name in zip(peaks, MAPS)]
    return row + [float(metrics.get("copy_move_score", 0.0))]


def main(model, *results):
    with open(model, "rb") as file:
        thresholds = tomllib.load(file)["local"]["anomaly_scores"]
    rows, labels = [], []
    for path in results:
        for line in open(path):
            result = json.loads(line)
            if "tamper" not in result:
                continue
            rows.append(features(result, thresholds))
            labels.append(1.0 if "/forged/" in result["file"] else 0.0)
    weights, bias = [0.0] * len(rows[0]), 0.0
    for _ in range(STEPS):
        gradient, bias_gradient = [0.0] * len(weights), 0.0
        for row, label in zip(rows, labels):
            z = bias + sum(w * x for w, x in zip(weights, row))
            error = 1.0 / (1.0 + math.exp(-z)) - label
            bias_gradient += error
            for k, x in enumerate(row):
                gradient[k] += error * x
        n = len(rows)
        weights = [max(0.0, w - RATE * (g / n + L2 * w)) for w, g in zip(weights, gradient)]
        bias -= RATE * bias_gradient / n
    print(f"# {len(rows)} cases ({int(sum(labels))} edited) from {', '.join(results)}")
    print("[local]")
    print(f"copy_move_score_weight = {weights[-1]:.2f}")
    print("[local.score_weights]")
    for name, weight in zip(MAPS, weights):
        print(f"{name} = {weight:.2f}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
