"""check-onnx.py: Debian python3-onnx's checker (full check, with shape
inference) on a kd-export --onnx file, then its metadata printed as
key=value lines (tests only). Usage: /usr/bin/python3 check-onnx.py FILE"""
import sys

import onnx

m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print("ops=" + ",".join(n.op_type for n in m.graph.node))
print("opset=%d" % max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")))
for p in m.metadata_props:
    print("%s=%s" % (p.key, p.value))
