#!/usr/bin/env python3
"""The Python peer of posbon's photo redaction (crates/workers/src/photo.rs), for speed comparisons.

The same steps on the same files with the same model and the same ONNX Runtime library: OpenCV
decodes the JPEG, the picture is resized (bilinear) to the search size posbon uses (2x for
pictures up to 1000 px on the longer side, else at most 1600 px; rounded up to multiples of 32),
CenterFace (centerface/centerface-dyn.onnx) runs on it as RGB 0..255, faces are decoded from the
heatmap above 0.5 and kept by greedy NMS at IoU 0.3, each face padded by 30% on every side is
pixelated (cells of 20% of its shorter side, at least 3 px) and smoothed by three box blurs, and
OpenCV encodes a JPEG at quality 85 (as posbon, 4:2:0). Written as one would for production: vectorised numpy,
one session reused.

    python3 bench/python_photo.py --threads 2 still.jpg phone.jpg

Prints one JSON line per file: size, faces, median and p90 of the per-call time in ms.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from python_pipeline import asset_root, fail  # noqa: E402

WARMUP = 2
RUNS = 15


def round32(v: float) -> int:
    v = max(1, round(max(v, 1.0)))
    return max(1, -(-v // 32)) * 32


def search_scale(w: int, h: int) -> float:
    long = max(w, h, 1)
    return 2.0 if long <= 1000 else min(1600.0 / long, 1.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    order = np.argsort(-scores)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
        union = area(boxes[i]) + area(boxes[rest]) - inter
        order = rest[inter / np.maximum(union, 1e-9) <= iou]
    return boxes[keep]


def faces(sess, rgb: np.ndarray) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    s = search_scale(w, h)
    iw, ih = round32(w * s), round32(h * s)
    inp = cv2.resize(rgb, (iw, ih), interpolation=cv2.INTER_LINEAR)
    blob = np.ascontiguousarray(inp.transpose(2, 0, 1)[None].astype(np.float32))
    heat, scale, offset = sess.run(["heatmap", "scale", "offset"], {"input.1": blob})
    heat = heat[0, 0]
    ys, xs = np.nonzero(heat > 0.5)
    if ys.size == 0:
        return np.zeros((0, 4), np.float32)
    sh = np.exp(scale[0, 0, ys, xs]) * 4
    sw = np.exp(scale[0, 1, ys, xs]) * 4
    cy = (ys + offset[0, 0, ys, xs] + 0.5) * 4
    cx = (xs + offset[0, 1, ys, xs] + 0.5) * 4
    x1 = np.clip(cx - sw / 2, 0, iw)
    y1 = np.clip(cy - sh / 2, 0, ih)
    boxes = np.stack([x1, y1, np.minimum(x1 + sw, iw), np.minimum(y1 + sh, ih)], 1)
    boxes *= np.array([w / iw, h / ih, w / iw, h / ih], np.float32)
    return nms(boxes, heat[ys, xs], 0.3)


def blur(img: np.ndarray, boxes: np.ndarray) -> None:
    import cv2

    h, w = img.shape[:2]
    for x1, y1, x2, y2 in boxes:
        dx, dy = 0.3 * (x2 - x1), 0.3 * (y2 - y1)
        a, b = max(0, math.floor(x1 - dx)), max(0, math.floor(y1 - dy))
        c, d = min(w, math.ceil(x2 + dx)), min(h, math.ceil(y2 + dy))
        if c <= a or d <= b:
            continue
        roi = img[b:d, a:c]
        cell = max(3, math.ceil(min(c - a, d - b) * 0.2))
        small = cv2.resize(roi, (max(1, (c - a) // cell), max(1, (d - b) // cell)), interpolation=cv2.INTER_AREA)
        roi[:] = cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_NEAREST)
        k = 2 * max(1, cell // 2) + 1
        for _ in range(3):
            roi[:] = cv2.blur(roi, (k, k))


def redact(sess, data: bytes) -> tuple[bytes, int, tuple[int, int]]:
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        fail("a file is not a picture OpenCV reads")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    found = faces(sess, rgb)
    blur(bgr, found)
    ok, out = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        fail("OpenCV could not encode the JPEG")
    return out.tobytes(), len(found), (bgr.shape[1], bgr.shape[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default=str(asset_root() / "centerface" / "centerface-dyn.onnx"))
    a = ap.parse_args()
    import cv2
    import onnxruntime as ort

    cv2.setNumThreads(a.threads)
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    for f in a.files:
        data = Path(f).read_bytes()
        n = 0
        for _ in range(WARMUP):
            _, n, size = redact(sess, data)
        ms = []
        for _ in range(RUNS):
            t = time.perf_counter()
            redact(sess, data)
            ms.append((time.perf_counter() - t) * 1000)
        ms.sort()
        print(json.dumps({"impl": "python", "file": f, "width": size[0], "height": size[1], "faces": n,
                          "runs": RUNS, "median_ms": round(ms[RUNS // 2], 2), "p90_ms": round(ms[RUNS * 9 // 10], 2)}))


if __name__ == "__main__":
    main()
