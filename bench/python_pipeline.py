#!/usr/bin/env python3
"""The Python peer of posbon's detection path, for side-by-side speed comparisons.

OpenCV decodes the video (cv2.VideoCapture), ONNX Runtime runs the same YOLOv4-tiny ONNX model
posbon ships, and the same post-processing is applied: score = objectness x class probability of
each row's best class, score threshold 0.25, greedy per-class NMS at IoU 0.45, boxes scaled back
to frame pixels. Written the way one would write it for production in Python: vectorised numpy,
cv2.resize into a preallocated tensor, one session reused.

    python3 bench/python_pipeline.py --threads 1
    python3 bench/python_pipeline.py --video V.avi --model M.onnx --threads 2 --max-frames 200 --every 2

Prints one JSON object: frames, seconds, fps, detector calls, mean detections per call, and the
time spent in each stage (decode, preprocess, infer, postprocess), both wall-clock and process CPU
time (`time.process_time`, all threads): on a machine shared with other jobs the CPU figures are
the ones to compare. "decode" per call is per frame; the other stages are per detector call.

Model contract: input `input` float32 [N, 3, S, S] (or symbolic H, W: --size), RGB in 0..1 (plain resize, no letterbox);
output `detections` float32 [N, R, 85] = cx, cy, w, h (input pixels), objectness, 80 class probs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def asset_root() -> Path:
    """Same rule as posbon: $POSBON_ASSETS, else $XDG_CACHE_HOME/posbon/assets, else ~/.cache/..."""
    if os.environ.get("POSBON_ASSETS"):
        return Path(os.environ["POSBON_ASSETS"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "posbon" / "assets"
    return Path.home() / ".cache" / "posbon" / "assets"


def fail(msg: str) -> "NoReturn":  # noqa: F821
    print(f"python_pipeline: error: {msg}", file=sys.stderr)
    sys.exit(2)


def nms_per_class(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> np.ndarray:
    """Greedy NMS within each class; returns kept indices, highest score first.

    Boxes of different classes are shifted apart by a per-class offset larger than any coordinate,
    so one greedy pass over all boxes never lets one class suppress another.
    """
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    offset = classes.astype(np.float32)[:, None] * (float(boxes.max()) + 1.0)
    b = boxes + offset
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0)
        h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0)
        inter = w * h
        union = areas[i] + areas[rest] - inter
        ov = np.where(union > 0, inter / np.maximum(union, 1e-12), 0)
        order = rest[ov <= iou]
    return np.asarray(keep, dtype=np.int64)


def postprocess(out: np.ndarray, sx: float, sy: float, score_thr: float, iou: float):
    """One image's [R, 85] rows to (boxes x1y1x2y2 in frame pixels, scores, class ids)."""
    cls = out[:, 5:]
    class_id = cls.argmax(axis=1)
    score = out[:, 4] * cls[np.arange(len(cls)), class_id]
    m = score > score_thr
    if not m.any():
        return np.empty((0, 4), np.float32), np.empty(0, np.float32), np.empty(0, np.int64)
    r, score, class_id = out[m], score[m], class_id[m]
    cx, cy, w, h = r[:, 0], r[:, 1], r[:, 2], r[:, 3]
    boxes = np.stack([(cx - w / 2) * sx, (cy - h / 2) * sy, (cx + w / 2) * sx, (cy + h / 2) * sy], axis=1)
    keep = nms_per_class(boxes, score, class_id, iou)
    return boxes[keep], score[keep], class_id[keep]


def main() -> None:
    root = asset_root()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, default=root / "footage" / "vtest.avi")
    ap.add_argument("--model", type=Path, default=root / "yolov4-tiny" / "yolov4-tiny-416.onnx")
    ap.add_argument("--size", type=int, default=416, help="input side when the model's H and W are symbolic")
    ap.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (and OpenCV's)")
    ap.add_argument("--max-frames", type=int, default=0, help="stop after this many frames (0: all)")
    ap.add_argument("--every", type=int, default=1, help="run the detector on every N-th frame")
    ap.add_argument("--score", type=float, default=0.25)
    ap.add_argument("--iou", type=float, default=0.45)
    ap.add_argument("--warmup", type=int, default=1, help="untimed inferences before the run")
    a = ap.parse_args()
    if a.threads < 1 or a.every < 1 or a.max_frames < 0:
        fail("--threads and --every must be >= 1 and --max-frames >= 0")
    for what, p in (("video", a.video), ("model", a.model)):
        if not p.is_file():
            fail(f"{what} {p} not found; run `posbon assets fetch` or pass --{what} PATH")

    import cv2
    import onnxruntime as ort

    cv2.setNumThreads(a.threads)
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        sess = ort.InferenceSession(str(a.model), so, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        fail(f"model {a.model} could not be loaded by ONNX Runtime {ort.__version__}: {e}")
    inp = sess.get_inputs()[0]
    if inp.name != "input" or len(inp.shape) != 4:
        fail(f"model {a.model}: expected input `input` [N,3,H,W], found `{inp.name}` {inp.shape}")
    # The shipped export takes any multiple of 32 (symbolic H, W); the whole frame goes in at the
    # description's 416x416, as posbon runs whole frames.
    size = int(inp.shape[2]) if isinstance(inp.shape[2], int) else a.size
    out_name = "detections"
    if out_name not in [o.name for o in sess.get_outputs()]:
        fail(f"model {a.model}: no output named `detections`; outputs are {[o.name for o in sess.get_outputs()]}")

    cap = cv2.VideoCapture(str(a.video))
    if not cap.isOpened():
        fail(f"video {a.video}: OpenCV could not open it (is its codec supported by this OpenCV build?)")

    tensor = np.empty((1, 3, size, size), np.float32)
    rgb_small = np.empty((size, size, 3), np.uint8)
    for _ in range(a.warmup):
        sess.run([out_name], {"input": tensor})

    # wall time per stage, and CPU time of the whole process per stage (on a machine shared with
    # other jobs the CPU time is the fairer figure)
    stages = ("decode", "preprocess", "infer", "postprocess")
    t = dict.fromkeys(stages, 0.0)
    cpu = dict.fromkeys(stages, 0.0)
    frames = calls = dets = 0
    clock, cpu_clock = time.perf_counter, time.process_time
    start, cpu_start = clock(), cpu_clock()
    while a.max_frames == 0 or frames < a.max_frames:
        t0, c0 = clock(), cpu_clock()
        ok, bgr = cap.read()
        t1, c1 = clock(), cpu_clock()
        t["decode"] += t1 - t0
        cpu["decode"] += c1 - c0
        if not ok:
            break
        frames += 1
        if (frames - 1) % a.every:
            continue
        h, w = bgr.shape[:2]
        cv2.resize(bgr, (size, size), dst=rgb_small, interpolation=cv2.INTER_LINEAR)
        cv2.cvtColor(rgb_small, cv2.COLOR_BGR2RGB, dst=rgb_small)
        np.multiply(rgb_small.transpose(2, 0, 1), np.float32(1 / 255), out=tensor[0])
        t2, c2 = clock(), cpu_clock()
        out = sess.run([out_name], {"input": tensor})[0]
        t3, c3 = clock(), cpu_clock()
        boxes, scores, classes = postprocess(out[0], w / size, h / size, a.score, a.iou)
        t4, c4 = clock(), cpu_clock()
        t["preprocess"] += t2 - t1
        t["infer"] += t3 - t2
        t["postprocess"] += t4 - t3
        cpu["preprocess"] += c2 - c1
        cpu["infer"] += c3 - c2
        cpu["postprocess"] += c4 - c3
        calls += 1
        dets += len(boxes)
    seconds = clock() - start
    cpu_seconds = cpu_clock() - cpu_start
    cap.release()
    if frames == 0:
        fail(f"video {a.video}: no frame could be decoded")
    print(json.dumps({
        "pipeline": "python: cv2.VideoCapture + onnxruntime",
        "video": str(a.video),
        "model": str(a.model),
        "threads": a.threads,
        "every": a.every,
        "frames": frames,
        "seconds": round(seconds, 4),
        "fps": round(frames / seconds, 2),
        "cpu_seconds": round(cpu_seconds, 4),
        "fps_per_cpu_second": round(frames / cpu_seconds, 2),
        "detector_calls": calls,
        "mean_detections_per_call": round(dets / max(calls, 1), 3),
        "stage_seconds": {k: round(v, 4) for k, v in t.items()},
        "stage_ms_per_call": {k: round(1000 * v / max(calls if k != "decode" else frames, 1), 3)
                              for k, v in t.items()},
        "stage_cpu_seconds": {k: round(v, 4) for k, v in cpu.items()},
        "stage_cpu_ms_per_call": {k: round(1000 * v / max(calls if k != "decode" else frames, 1), 3)
                                  for k, v in cpu.items()},
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "opencv": cv2.__version__, "onnxruntime": ort.__version__},
    }, indent=2))


if __name__ == "__main__":
    main()
