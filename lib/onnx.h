/* onnx.h: a model as an ONNX file (the ONNX protobuf, written byte by
 * byte; no protobuf library), for kd-export --onnx. Prefix kdnx_. */
#ifndef KD_ONNX_H
#define KD_ONNX_H

#include <stdio.h>

#include "kd_err.h"
#include "mlp.h"

/* kdnx_write: write m to fp (named name in messages) as an ONNX model,
 * opset 13: an input "input" of shape (N, D) float32; the model's
 * standardisation as Sub and Mul; per layer a Gemm (transB) and, but for
 * the last, a Relu; outputs "logits" (N, K) and "probabilities" (Softmax
 * of the logits, axis 1). The class names, when the model has them, go
 * in the model's metadata. 0, or -1 with e set (a write that fails). */
int kdnx_write(const kdm_model *m, FILE *fp, const char *name, kd_err *e);

#endif
