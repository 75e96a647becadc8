#!/usr/bin/env python3
"""Convert a Darknet YOLO (v3/v4 tiny style) cfg + weights into an ONNX graph with box decoding inside.

    python3 tools/darknet2onnx.py --cfg yolov4-tiny.cfg --weights yolov4-tiny.weights --size 416 \
        --out yolov4-tiny-416.onnx
    python3 tools/darknet2onnx.py --verify-against-opencv FRAME.png   # cached yolov4-tiny, temp .onnx

Contract of the written graph (what models/yolov4-tiny-416.toml describes):
  input  `input`       float32 [N, 3, H, W], RGB in 0..1, N, H and W symbolic: H and W may be any
                       multiples of 32 (the whole frame at --size, or a motion region at the same
                       scale); the grid of each head is built from the runtime shape
  output `detections`  float32 [N, R, 5 + C]: cx, cy, w, h in input pixels, objectness, C class
                       probabilities (score = objectness x class probability; NMS is left to the caller),
                       R = sum over heads of (H/stride) x (W/stride) x anchors.
Rows are ordered head by head (in cfg order), then grid row, grid column, anchor: the same order
as OpenCV's Darknet reader, so the two can be compared row by row.

Supported layers: [convolutional] (batch_normalize folded into the conv, activation leaky|linear|
relu|logistic|mish), [route] (layers, groups/group_id channel split), [shortcut] (linear),
[maxpool] (Darknet padding rules incl. size 2 stride 1), [upsample], [yolo] (anchors, mask,
scale_x_y). The output bytes are deterministic: the same inputs give the same file.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def fail(msg: str) -> "NoReturn":  # noqa: F821
    print(f"darknet2onnx: error: {msg}", file=sys.stderr)
    sys.exit(2)


# ----------------------------------------------------------------------------------------------
# cfg parsing
# ----------------------------------------------------------------------------------------------
def parse_cfg(path: Path) -> list[dict]:
    sections: list[dict] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                fail(f"{path}:{lineno}: section header `{line}` lacks a closing `]`")
            sections.append({"type": line[1:-1].strip(), "_line": lineno})
            continue
        if "=" not in line:
            fail(f"{path}:{lineno}: expected `key=value`, found `{line}`")
        if not sections:
            fail(f"{path}:{lineno}: `{line}` appears before any [section]")
        k, v = line.split("=", 1)
        sections[-1][k.strip()] = v.strip()
    if not sections or sections[0]["type"] not in ("net", "network"):
        fail(f"{path}: the first section must be [net]; is this a Darknet cfg file?")
    return sections


def ints(s: str) -> list[int]:
    return [int(x) for x in s.replace(" ", "").split(",") if x != ""]


def floats(s: str) -> list[float]:
    return [float(x) for x in s.replace(" ", "").split(",") if x != ""]


# ----------------------------------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------------------------------
class Weights:
    def __init__(self, path: Path):
        data = path.read_bytes()
        if len(data) < 20:
            fail(f"{path}: {len(data)} bytes is too short for a Darknet weights file")
        major, minor, _rev = np.frombuffer(data[:12], dtype="<i4")
        header = 20 if (major * 10 + minor) >= 2 and major < 1000 and minor < 1000 else 16
        self.path = path
        self.buf = np.frombuffer(data[header:], dtype="<f4")
        self.pos = 0

    def take(self, n: int) -> np.ndarray:
        if self.pos + n > self.buf.size:
            fail(
                f"{self.path}: ran out of weights ({self.buf.size} floats) while reading {n} more at "
                f"offset {self.pos}: the weights do not belong to this cfg"
            )
        out = self.buf[self.pos : self.pos + n].astype(np.float32)
        self.pos += n
        return out

    def remaining(self) -> int:
        return self.buf.size - self.pos


# ----------------------------------------------------------------------------------------------
# graph building
# ----------------------------------------------------------------------------------------------
class Builder:
    def __init__(self):
        from onnx import helper

        self.h = helper
        self.nodes = []
        self.inits = []
        self.counter = 0

    def name(self, base: str) -> str:
        self.counter += 1
        return f"{base}_{self.counter}"

    def const(self, base: str, arr: np.ndarray) -> str:
        from onnx import numpy_helper

        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.array(arr, order="C"), n))
        return n

    def node(self, op: str, inputs: list[str], base: str | None = None, **attrs) -> str:
        out = self.name(base or op.lower())
        self.nodes.append(self.h.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def activation(self, x: str, act: str, where: str) -> str:
        if act == "linear":
            return x
        if act == "leaky":
            return self.node("LeakyRelu", [x], alpha=0.1)
        if act == "relu":
            return self.node("Relu", [x])
        if act == "logistic":
            return self.node("Sigmoid", [x])
        if act == "mish":
            sp = self.node("Softplus", [x])
            th = self.node("Tanh", [sp])
            return self.node("Mul", [x, th])
        fail(f"{where}: activation `{act}` is not supported (leaky, linear, relu, logistic, mish are)")


def convert(cfg_path: Path, weights_path: Path, size: int, bn_eps: float):
    import onnx
    from onnx import TensorProto, helper

    sections = parse_cfg(cfg_path)
    net = sections[0]
    in_ch = int(net.get("channels", 3))
    weights = Weights(weights_path)
    b = Builder()

    # Per layer: (tensor name, channels, height, width).
    layers: list[tuple[str, int, int, int]] = []
    cur = ("input", in_ch, size, size)
    heads = []  # (tensor, grid_h, grid_w, anchors[mask], scale_x_y, classes)

    for idx, sec in enumerate(sections[1:]):
        t = sec["type"]
        where = f"{cfg_path}:{sec['_line']} [{t}] (layer {idx})"
        x, c, h, w = cur
        if t == "convolutional":
            filters = int(sec["filters"])
            k = int(sec.get("size", 1))
            stride = int(sec.get("stride", 1))
            pad = int(sec.get("pad", 0))
            padding = k // 2 if pad else int(sec.get("padding", 0))
            groups = int(sec.get("groups", 1))
            bn = int(sec.get("batch_normalize", 0))
            nw = filters * (c // groups) * k * k
            bias = weights.take(filters)
            if bn:
                scales = weights.take(filters)
                mean = weights.take(filters)
                var = weights.take(filters)
            wts = weights.take(nw).reshape(filters, c // groups, k, k)
            if bn:
                f = scales / np.sqrt(var + np.float32(bn_eps))
                wts = wts * f[:, None, None, None]
                bias = bias - mean * f
            y = b.node(
                "Conv",
                [x, b.const("w", wts.astype(np.float32)), b.const("b", bias.astype(np.float32))],
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[padding] * 4,
                group=groups,
            )
            y = b.activation(y, sec.get("activation", "logistic"), where)
            oh = (h + 2 * padding - k) // stride + 1
            ow = (w + 2 * padding - k) // stride + 1
            cur = (y, filters, oh, ow)
        elif t == "maxpool":
            k = int(sec.get("size", 1))
            stride = int(sec.get("stride", 1))
            padding = int(sec.get("padding", k - 1))
            # Darknet: out = (in + padding - size) / stride + 1, window starts at -padding/2;
            # the pad cells never win (they hold -inf), which is what ONNX MaxPool does too.
            oh = (h + padding - k) // stride + 1
            ow = (w + padding - k) // stride + 1
            lo = padding // 2
            # Pad just enough on the far side that ONNX's floor arithmetic gives Darknet's size.
            hi_h = (oh - 1) * stride + k - h - lo
            hi_w = (ow - 1) * stride + k - w - lo
            y = b.node(
                "MaxPool", [x], kernel_shape=[k, k], strides=[stride, stride],
                pads=[lo, lo, max(hi_h, 0), max(hi_w, 0)],
            )
            cur = (y, c, oh, ow)
        elif t == "route":
            refs = [r if r >= 0 else idx + r for r in ints(sec["layers"])]
            for r in refs:
                if not 0 <= r < idx:
                    fail(f"{where}: route refers to layer {r}, which does not precede it")
            groups = int(sec.get("groups", 1))
            gid = int(sec.get("group_id", 0))
            parts = []
            total = 0
            rh, rw = layers[refs[0]][2], layers[refs[0]][3]
            for r in refs:
                rx, rc, lh, lw = layers[r]
                if (lh, lw) != (rh, rw):
                    fail(f"{where}: routed layers have different sizes ({rh}x{rw} vs {lh}x{lw})")
                if groups > 1:
                    part = rc // groups
                    rx = b.node(
                        "Slice",
                        [rx, b.const("s", np.array([gid * part], np.int64)),
                         b.const("e", np.array([(gid + 1) * part], np.int64)),
                         b.const("a", np.array([1], np.int64))],
                    )
                    rc = part
                parts.append(rx)
                total += rc
            y = parts[0] if len(parts) == 1 else b.node("Concat", parts, axis=1)
            cur = (y, total, rh, rw)
        elif t == "shortcut":
            frm = int(sec["from"])
            frm = frm if frm >= 0 else idx + frm
            if sec.get("activation", "linear") != "linear":
                y = b.node("Add", [x, layers[frm][0]])
                y = b.activation(y, sec["activation"], where)
            else:
                y = b.node("Add", [x, layers[frm][0]])
            cur = (y, c, h, w)
        elif t == "upsample":
            s = int(sec.get("stride", 2))
            y = b.node(
                "Resize",
                [x, "", b.const("scales", np.array([1, 1, s, s], np.float32))],
                mode="nearest",
                coordinate_transformation_mode="asymmetric",
                nearest_mode="floor",
            )
            cur = (y, c, h * s, w * s)
        elif t == "yolo":
            mask = ints(sec.get("mask", ""))
            anchors = ints(sec["anchors"])
            anchors = [(anchors[2 * i], anchors[2 * i + 1]) for i in range(len(anchors) // 2)]
            if not mask:
                mask = list(range(len(anchors)))
            classes = int(sec.get("classes", 80))
            sxy = float(sec.get("scale_x_y", 1.0))
            if c != len(mask) * (5 + classes):
                fail(f"{where}: expects {len(mask)}x(5+{classes}) channels, the layer before has {c}")
            if int(sec.get("new_coords", 0)):
                fail(f"{where}: new_coords=1 (scaled-YOLOv4) is not supported")
            heads.append((x, h, w, [anchors[m] for m in mask], sxy, classes))
            cur = (x, c, h, w)
        else:
            fail(f"{where}: layer type [{t}] is not supported by this converter")
        layers.append(cur)

    if weights.remaining() != 0:
        fail(
            f"{weights_path}: {weights.remaining()} floats are left over after the last layer: "
            "the weights do not belong to this cfg"
        )
    if not heads:
        fail(f"{cfg_path}: no [yolo] layer found")
    classes = heads[0][5]
    outs = []
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    for x, gh, gw, anc, sxy, _ in heads:
        na = len(anc)
        # The grid is built from the tensor's runtime shape, so the graph takes any input whose
        # sides are multiples of 32 (a motion region as well as the whole frame); the stride of a
        # head is fixed by the architecture (size / grid at the export size: 32 and 16 here).
        if size % gw or size % gh or size // gw != size // gh:
            fail(f"yolo head with a {gh}x{gw} grid at input {size}: stride is not a whole number")
        s = float(size // gw)
        # [N, na*(5+C), gh, gw] -> [N, na, 5+C, gh*gw] -> [N, gh*gw, na, 5+C]
        r = b.node("Reshape", [x, b.const("shape", i64([0, na, 5 + classes, -1]))])
        r = b.node("Transpose", [r], perm=[0, 3, 1, 2])
        ax = b.const("axis", i64([3]))
        xy = b.node("Slice", [r, b.const("s", i64([0])), b.const("e", i64([2])), ax])
        wh = b.node("Slice", [r, b.const("s", i64([2])), b.const("e", i64([4])), ax])
        rest = b.node("Slice", [r, b.const("s", i64([4])), b.const("e", i64([5 + classes])), ax])
        # grid [1, gh*gw, 1, 2] of (gx, gy), row-major over the cells
        shp = b.node("Shape", [x])
        hh = b.node("Gather", [shp, b.const("i", i64(2))], axis=0)
        ww = b.node("Gather", [shp, b.const("i", i64(3))], axis=0)
        zero, one = b.const("zero", i64(0)), b.const("one", i64(1))
        xs = b.node("Cast", [b.node("Range", [zero, ww, one])], to=TensorProto.FLOAT)
        ys = b.node("Cast", [b.node("Range", [zero, hh, one])], to=TensorProto.FLOAT)
        xs = b.node("Reshape", [xs, b.const("shape", i64([1, -1, 1]))])  # [1, gw, 1]
        ys = b.node("Reshape", [ys, b.const("shape", i64([-1, 1, 1]))])  # [gh, 1, 1]
        gx = b.node("Add", [xs, b.node("Mul", [ys, b.const("z", np.array(0, np.float32))])])
        gy = b.node("Add", [ys, b.node("Mul", [xs, b.const("z", np.array(0, np.float32))])])
        grid = b.node("Concat", [gx, gy], axis=2)  # [gh, gw, 2]
        grid = b.node("Reshape", [grid, b.const("shape", i64([1, -1, 1, 2]))])
        # cx = (sigmoid(tx) * sxy - (sxy - 1) / 2 + gx) * stride
        sg = b.node("Sigmoid", [xy])
        if sxy != 1.0:
            sg = b.node("Mul", [sg, b.const("sxy", np.array(sxy, np.float32))])
        off = b.node("Sub", [grid, b.const("half", np.array((sxy - 1.0) / 2.0, np.float32))])
        cxy = b.node("Mul", [b.node("Add", [sg, off]), b.const("stride", np.array(s, np.float32))])
        # w = exp(tw) * anchor (anchors are in network-input pixels)
        anch = np.array(anc, np.float32).reshape(1, 1, na, 2)
        ewh = b.node("Mul", [b.node("Exp", [wh]), b.const("anchors", anch)])
        prob = b.node("Sigmoid", [rest])
        det = b.node("Concat", [cxy, ewh, prob], axis=3)  # [N, gh*gw, na, 5+C]
        outs.append(b.node("Reshape", [det, b.const("shape", i64([0, -1, 5 + classes]))]))
    final = outs[0] if len(outs) == 1 else b.node("Concat", outs, axis=1)
    b.nodes.append(helper.make_node("Identity", [final], ["detections"], name="detections"))

    total_rows = sum(gh * gw * len(anc) for _, gh, gw, anc, _, _ in heads)
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", in_ch, "H", "W"])
    out = helper.make_tensor_value_info("detections", TensorProto.FLOAT, ["N", "R", 5 + classes])
    graph = helper.make_graph(b.nodes, "darknet", [inp], [out], initializer=b.inits)
    graph.doc_string = (
        f"Converted from {cfg_path.name} + {weights_path.name} by posbon tools/darknet2onnx.py. "
        "input: RGB 0..1 NCHW; detections: cx,cy,w,h (input px), objectness, class probabilities."
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="posbon-darknet2onnx",
        producer_version="1",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, total_rows, classes


# ----------------------------------------------------------------------------------------------
# verification against OpenCV's Darknet reader
# ----------------------------------------------------------------------------------------------
def verify(model_path: Path, cfg: Path, weights: Path, frame: Path, size: int) -> float:
    """Compare with OpenCV at the square export size and at a wide and a tall shape."""
    other = max(32, (size * 3 // 4) // 32 * 32)
    return max(verify_at(model_path, cfg, weights, frame, w, h)
               for w, h in ((size, size), (size, other), (other, size)))


def verify_at(model_path: Path, cfg: Path, weights: Path, frame: Path, width: int, height: int) -> float:
    import cv2
    import onnxruntime as ort

    bgr = cv2.imread(str(frame), cv2.IMREAD_COLOR)
    if bgr is None:
        fail(f"{frame}: OpenCV could not read this image")
    print(f"-- input {width}x{height}")
    blob = cv2.dnn.blobFromImage(bgr, 1 / 255.0, (width, height), swapRB=True, crop=False)
    net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setInput(blob)
    cv_outs = net.forward(net.getUnconnectedOutLayersNames())
    ref = np.concatenate([o.reshape(-1, o.shape[-1]) for o in cv_outs], axis=0)

    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    ours = sess.run(["detections"], {"input": blob.astype(np.float32)})[0][0]
    if ours.shape != ref.shape:
        fail(f"shape mismatch: ours {ours.shape}, OpenCV {ref.shape}")

    # OpenCV's rows: cx, cy, w, h normalised to 0..1, objectness, objectness x class probability
    # with values under its threshold set to 0. Bring ours into the same form.
    ours_cv = ours.copy()
    ours_cv[:, [0, 2]] /= width
    ours_cv[:, [1, 3]] /= height
    box_diff = np.abs(ours_cv[:, 0:4] - ref[:, 0:4]).max() * max(width, height)
    obj_diff = np.abs(ours[:, 4] - ref[:, 4]).max()
    scores = ours[:, 4:5] * ours[:, 5:]
    kept = ref[:, 5:] > 0
    score_diff = np.abs(scores[kept] - ref[:, 5:][kept]).max() if kept.any() else 0.0
    thr = ref[:, 5:][kept].min() if kept.any() else 0.0
    # Where OpenCV zeroed a score, ours must be under OpenCV's threshold too (up to the tolerance).
    leak = scores[~kept].max() if (~kept).any() else 0.0
    full = max(np.abs(ours_cv[:, 0:5] - ref[:, 0:5]).max(), score_diff)
    print(f"rows {ours.shape[0]}, columns {ours.shape[1]}")
    print(f"max |diff| box (input px): {box_diff:.3g}")
    print(f"max |diff| objectness:     {obj_diff:.3g}")
    print(f"max |diff| score (obj x class, {int(kept.sum())} scores OpenCV kept, min kept {thr:.3g}): {score_diff:.3g}")
    print(f"largest score of ours where OpenCV reported 0: {leak:.3g}")
    print(f"max |diff| over OpenCV-normalised rows: {full:.3g}")
    n_person = int(((scores[:, 0] > 0.25)).sum())
    print(f"rows with person score > 0.25 (before NMS): {n_person}")
    return float(full)


def asset_root() -> Path:
    """POSBON_ASSETS, else $XDG_CACHE_HOME/posbon/assets, else ~/.cache/posbon/assets."""
    import os

    if os.environ.get("POSBON_ASSETS"):
        return Path(os.environ["POSBON_ASSETS"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "posbon" / "assets"
    return Path.home() / ".cache" / "posbon" / "assets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cfg", type=Path, default=None,
                    help="Darknet cfg (default: <asset cache>/yolov4-tiny/yolov4-tiny.cfg)")
    ap.add_argument("--weights", type=Path, default=None,
                    help="Darknet weights (default: <asset cache>/yolov4-tiny/yolov4-tiny.weights)")
    ap.add_argument("--size", type=int, default=None, help="input side in pixels (default: the cfg's width)")
    ap.add_argument("--out", type=Path, default=None,
                    help="ONNX file to write (required unless only verifying)")
    ap.add_argument("--bn-eps", type=float, default=1e-5, help="batch-norm epsilon (Darknet: 1e-5)")
    ap.add_argument("--verify-against-opencv", metavar="FRAME", type=Path,
                    help="after writing, compare with cv2.dnn.readNetFromDarknet on this image")
    ap.add_argument("--tolerance", type=float, default=1e-3,
                    help="with --verify-against-opencv: fail if the max abs difference exceeds this")
    a = ap.parse_args()
    assets = asset_root()
    a.cfg = a.cfg or assets / "yolov4-tiny" / "yolov4-tiny.cfg"
    a.weights = a.weights or assets / "yolov4-tiny" / "yolov4-tiny.weights"
    tmpdir = None
    if a.out is None:
        if not a.verify_against_opencv:
            fail("--out is required (where to write the .onnx)")
        import tempfile

        tmpdir = tempfile.TemporaryDirectory()
        a.out = Path(tmpdir.name) / "model.onnx"
    for p in (a.cfg, a.weights):
        if not p.is_file():
            fail(f"{p}: no such file (run `posbon assets fetch` to get the model)")
    try:
        import onnx  # noqa: F401
    except ImportError:
        fail("the Python package `onnx` is missing: `python3 -m pip install onnx 'numpy<2'`")
    size = a.size
    if size is None:
        net = parse_cfg(a.cfg)[0]
        size = int(net.get("width", 416))
    if size % 32 != 0:
        fail(f"--size {size}: must be a multiple of 32")
    model, rows, classes = convert(a.cfg, a.weights, size, a.bn_eps)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_name(a.out.name + ".tmp")
    tmp.write_bytes(model.SerializeToString())
    tmp.replace(a.out)
    print(f"wrote {a.out}: input `input` [N,3,H,W] (H, W multiples of 32; {size}x{size} for the whole frame), "
          f"output `detections` [N,R,{5 + classes}] (R = {rows} at {size}x{size})")
    if a.verify_against_opencv:
        d = verify(a.out, a.cfg, a.weights, a.verify_against_opencv, size)
        if d > a.tolerance:
            fail(f"max abs difference {d:.3g} against OpenCV exceeds --tolerance {a.tolerance}")
        print(f"OK: within {a.tolerance} of OpenCV")


if __name__ == "__main__":
    main()
