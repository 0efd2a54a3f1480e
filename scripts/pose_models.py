#!/usr/bin/env python3
"""Rewrites MediaPipe's BlazePose TFLite models once, so that tract (pure Rust)
can run them: the same network, with the same numbers, in ops tract knows.

As shipped in the mediapipe wheel the models store their weights as float16
(each weight is a DEQUANTIZE op at run time) and some as sparse tensors (a
DENSIFY op before the DEQUANTIZE), and the detector upsamples with
DEPTH_TO_SPACE. tract-tflite implements none of those three. This script:

- evaluates every DENSIFY and DEQUANTIZE of a constant here, once, and stores
  the result as a plain float32 constant (the values the TFLite runtime
  computes at load time: float16 widened to float32 is exact);
- replaces each DEPTH_TO_SPACE (NHWC, block b) by the identical
  RESHAPE [n,h,w,b,b,c] -> TRANSPOSE (0,1,3,2,4,5) -> RESHAPE [n,h*b,w*b,c];
- drops the float16 and sparse buffers nothing reads any more.

It reads and writes the flatbuffer with the TFLite schema module the wheel
ships (mediapipe/tasks/metadata/schema_py_generated.py), so it needs only the
`flatbuffers` and `numpy` packages (scripts/setup.sh runs it in a venv).

usage: pose_models.py SCHEMA_DIR IN.tflite OUT.tflite
"""

import sys

import numpy as np


def load_schema(schema_dir):
    sys.path.insert(0, schema_dir)
    import schema_py_generated  # noqa: E402  (the wheel's own module)

    return schema_py_generated


def opcode_of(schema, model, op):
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def opcode_index(schema, model, builtin):
    """Index of `builtin` in the model's operator codes, added when absent."""
    for i, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return i
    code = schema.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, 127)
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


NUMPY_OF_TYPE = {0: np.float32, 1: np.float16, 2: np.int32}


def buffer_array(model, tensor):
    data = model.buffers[tensor.buffer].data
    if data is None:
        return None
    raw = np.asarray(data, dtype=np.uint8).tobytes()
    return np.frombuffer(raw, dtype=NUMPY_OF_TYPE[tensor.type])


def index_vector(schema, kind, vec):
    if kind == schema.SparseIndexVector.NONE or vec is None:
        return None
    return np.asarray(vec.values, dtype=np.int64)


def densify(schema, tensor, values):
    """The dense array of a sparse constant (TFLite's FormatConverter, without
    block maps, which these models do not use)."""
    sp = tensor.sparsity
    if sp.blockMap is not None and len(sp.blockMap) > 0:
        raise SystemExit(f"{tensor.name}: block-sparse tensors are not supported")
    order = [int(x) for x in sp.traversalOrder]
    shape = [int(x) for x in tensor.shape]
    dense = np.zeros(shape, dtype=values.dtype)
    dims = sp.dimMetadata
    coord = [0] * len(shape)
    position = [0]

    def walk(level, prev):
        dim = dims[level]
        axis = order[level]
        if dim.format == schema.DimensionType.DENSE:
            entries = [(i, prev * dim.denseSize + i) for i in range(dim.denseSize)]
        else:
            seg = index_vector(schema, dim.arraySegmentsType, dim.arraySegments)
            idx = index_vector(schema, dim.arrayIndicesType, dim.arrayIndices)
            entries = [(int(idx[k]), k) for k in range(seg[prev], seg[prev + 1])]
        for value, nxt in entries:
            coord[axis] = value
            if level + 1 == len(dims):
                dense[tuple(coord)] = values[position[0]]
                position[0] += 1
            else:
                walk(level + 1, nxt)

    walk(0, 0)
    if position[0] != len(values):
        raise SystemExit(f"{tensor.name}: {len(values)} values, {position[0]} placed")
    return dense


def set_constant(schema, model, tensor, array):
    buf = schema.BufferT()
    buf.data = np.frombuffer(np.ascontiguousarray(array).tobytes(), dtype=np.uint8)
    model.buffers.append(buf)
    tensor.buffer = len(model.buffers) - 1


def new_tensor(schema, model, graph, name, shape, ttype, data=None):
    t = schema.TensorT()
    t.name = name.encode()
    t.shape = np.asarray(shape, dtype=np.int32)
    t.type = ttype
    t.buffer = 0
    graph.tensors.append(t)
    if data is not None:
        set_constant(schema, model, t, data)
    return len(graph.tensors) - 1


def fold_constants(schema, model, graph):
    """Evaluates DENSIFY and DEQUANTIZE of constants; returns the ops kept."""
    B = schema.BuiltinOperator
    values = {}
    kept = []
    for op in graph.operators:
        code = opcode_of(schema, model, op)
        if code not in (B.DENSIFY, B.DEQUANTIZE):
            kept.append(op)
            continue
        src = graph.tensors[op.inputs[0]]
        arr = values.get(op.inputs[0])
        if arr is None:
            arr = buffer_array(model, src)
        if arr is None:
            raise SystemExit(f"{src.name}: {code} of a tensor that is not constant")
        if code == B.DENSIFY:
            arr = densify(schema, src, arr)
        else:
            arr = arr.astype(np.float32).reshape([int(x) for x in src.shape])
        out = graph.tensors[op.outputs[0]]
        values[op.outputs[0]] = arr
        if code == B.DEQUANTIZE:
            out.type = 0
            set_constant(schema, model, out, arr.astype(np.float32))
    return kept, values


def split_depth_to_space(schema, model, graph, op, shapes):
    """RESHAPE -> TRANSPOSE -> RESHAPE doing what DEPTH_TO_SPACE does (NHWC)."""
    B = schema.BuiltinOperator
    block = op.builtinOptions.blockSize
    src, dst = op.inputs[0], op.outputs[0]
    n, h, w, c = [int(x) for x in shapes[src]]
    c_out = c // (block * block)
    six = [n, h, w, block, block, c_out]
    swapped = [n, h, block, w, block, c_out]
    final = [n, h * block, w * block, c_out]
    base = graph.tensors[dst].name.decode()
    t_six = new_tensor(schema, model, graph, base + "/d2s_split", six, 0)
    t_swapped = new_tensor(schema, model, graph, base + "/d2s_swapped", swapped, 0)
    s_six = new_tensor(schema, model, graph, base + "/d2s_shape6", [6], 2, np.asarray(six, np.int32))
    perm = new_tensor(schema, model, graph, base + "/d2s_perm", [6], 2, np.asarray([0, 1, 3, 2, 4, 5], np.int32))
    s_final = new_tensor(schema, model, graph, base + "/d2s_shape4", [4], 2, np.asarray(final, np.int32))
    ops = []
    for code, inputs, output, shape in [
        (B.RESHAPE, [src, s_six], t_six, six),
        (B.TRANSPOSE, [t_six, perm], t_swapped, None),
        (B.RESHAPE, [t_swapped, s_final], dst, final),
    ]:
        new = schema.OperatorT()
        new.opcodeIndex = opcode_index(schema, model, code)
        new.inputs = np.asarray(inputs, dtype=np.int32)
        new.outputs = np.asarray([output], dtype=np.int32)
        if code == B.RESHAPE:
            new.builtinOptionsType = schema.BuiltinOptions.ReshapeOptions
            options = schema.ReshapeOptionsT()
            options.newShape = list(shape)
            new.builtinOptions = options
        else:
            new.builtinOptionsType = schema.BuiltinOptions.TransposeOptions
            new.builtinOptions = schema.TransposeOptionsT()
        ops.append(new)
    return ops


def unshare_constants(schema, model, graph):
    """Gives every op its own copy of a constant input another op also reads
    (the models share their PAD ops' padding tables). tflite2onnx rewrites
    such a table in place for the first op that reads it and then fails on
    the second."""
    seen = set()
    for op in graph.operators:
        inputs = list(op.inputs)
        for k, i in enumerate(inputs):
            t = graph.tensors[i] if i >= 0 else None
            if (
                t is None
                or not t.buffer
                or model.buffers[t.buffer].data is None
                or t.type not in NUMPY_OF_TYPE
            ):
                continue
            if i in seen:
                arr = buffer_array(model, t).copy()
                name = t.name.decode() + f"_copy{len(graph.tensors)}"
                inputs[k] = new_tensor(schema, model, graph, name, t.shape, t.type, arr)
            seen.add(inputs[k])
        op.inputs = np.asarray(inputs, dtype=np.int32)


def rewrite(schema, data):
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    if len(model.subgraphs) != 1:
        raise SystemExit("expected one subgraph")
    graph = model.subgraphs[0]
    B = schema.BuiltinOperator
    kept, _ = fold_constants(schema, model, graph)
    shapes = {i: t.shape for i, t in enumerate(graph.tensors)}
    ops = []
    for op in kept:
        if opcode_of(schema, model, op) == B.DEPTH_TO_SPACE:
            ops.extend(split_depth_to_space(schema, model, graph, op, shapes))
        else:
            ops.append(op)
    graph.operators = ops
    unshare_constants(schema, model, graph)
    # Buffers only the folded ops read (float16, sparse) are emptied.
    read = {int(i) for op in ops for i in op.inputs if i >= 0}
    for i, t in enumerate(graph.tensors):
        if i not in read and t.buffer and t.type == 1:
            model.buffers[t.buffer].data = None
            t.sparsity = None
        if t.sparsity is not None and i not in read:
            t.sparsity = None
    left = {opcode_of(schema, model, op) for op in ops}
    for bad in (B.DENSIFY, B.DEQUANTIZE, B.DEPTH_TO_SPACE):
        if bad in left:
            raise SystemExit(f"op {bad} is still in the model")
    import flatbuffers

    builder = flatbuffers.Builder(len(data) * 2)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    schema = load_schema(sys.argv[1])
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    out = rewrite(schema, data)
    tmp = sys.argv[3] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    import os

    os.replace(tmp, sys.argv[3])
    print(f"{sys.argv[3]}: {len(out)} bytes")


if __name__ == "__main__":
    main()
