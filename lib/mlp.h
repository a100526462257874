/* mlp.h: the multilayer perceptron that kd trains: D inputs, any number of
 * ReLU hidden layers, K outputs (logits).
 *
 * Layer l (l = 0 .. n_layers-1) maps sizes[l] inputs to sizes[l+1]
 * outputs: out = in * W_l^T + b_l, with W_l stored (sizes[l+1], sizes[l])
 * row-major, so row j holds the incoming weights of unit j. Every layer but
 * the last is followed by a ReLU. As in llm.c, all parameters live in one
 * allocation (W_0, b_0, W_1, b_1, ...) and the struct points into it.
 *
 * A model may carry a per-feature standardisation, applied as
 * (x - mean) / std inside every forward pass, so callers always pass raw
 * features; std values below 1e-6 count as 1 (a constant feature). It may
 * also carry class names.
 *
 * Activations are batch-major, (B, n): one sgemm per layer forward, two per
 * layer backward (one for the first layer), and light elementwise passes.
 * Functions that can fail return NULL or -1 and fill a kd_err. */
#ifndef KD_MLP_H
#define KD_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "kd_err.h"
#include "rng.h"

/* limits shared by kdm_new and the model file reader */
#define KDM_MAX_LAYERS 64                  /* weight layers (hidden + 1) */
#define KDM_MAX_WIDTH  ((size_t)1 << 20)   /* hidden widths and K */
#define KDM_MAX_D      ((size_t)1 << 24)   /* input features */
#define KDM_MAX_PARAMS ((uint64_t)1 << 31) /* weights and biases in all */
#define KDM_STD_MIN    1e-6f               /* std below this counts as 1 */

typedef struct kdm_model {
	size_t D;          /* input features, sizes[0] */
	size_t K;          /* outputs, sizes[n_layers] */
	size_t n_layers;   /* weight layers: hidden layers + 1, at least 1 */
	size_t sizes[KDM_MAX_LAYERS + 1]; /* layer widths, D first, K last */
	size_t nparams;    /* floats in params */
	float *params;     /* all weights and biases: W_0, b_0, W_1, b_1, ... */
	float *W[KDM_MAX_LAYERS]; /* W[l] (sizes[l+1], sizes[l]), into params */
	float *b[KDM_MAX_LAYERS]; /* b[l] (sizes[l+1]), into params */
	int standardize;   /* 1 when mean and std below apply to the inputs */
	float *mean;       /* (D) feature means (meaningful when standardize) */
	float *std;        /* (D) feature standard deviations, as given */
	float *istd;       /* (D) 1/std, or 1 where std < KDM_STD_MIN */
	char *names;       /* K NUL-terminated UTF-8 class names, or NULL */
	size_t names_len;  /* bytes in names, the NULs included */
	size_t *name_off;  /* (K) where each name starts in names, or NULL */
} kdm_model;

/* kdm_check_sizes: 0 when a network of n_layers weight layers with widths
 * sizes[0..n_layers] is within the limits above (every width >= 1), and
 * its parameter count then goes to *nparams (when not NULL). Otherwise -1,
 * with e saying which limit ("layer width 0 is out of range (1 to 1048576)"). */
int kdm_check_sizes(const size_t *sizes, size_t n_layers, uint64_t *nparams,
                    kd_err *e);

/* kdm_alloc: a model of n_layers weight layers with widths
 * sizes[0..n_layers] (D first, K last), all parameters 0, no
 * standardisation, no names. NULL on bad sizes or out of memory. */
kdm_model *kdm_alloc(const size_t *sizes, size_t n_layers, kd_err *e);

/* kdm_new: a model with D inputs, n_hidden hidden layers of widths
 * hidden[0..n_hidden-1] (hidden may be NULL when n_hidden is 0) and K
 * outputs, initialised from seed: weights ~ N(0, 2 / fan-in) (He et al.
 * 2015), biases 0. The same seed gives bit-identical parameters. */
kdm_model *kdm_new(size_t D, const size_t *hidden, size_t n_hidden, size_t K,
                   uint64_t seed, kd_err *e);

/* kdm_free: release m and all it owns; NULL is fine. */
void kdm_free(kdm_model *m);

/* kdm_set_standardize: copy mean (D) and std (D) into m and turn the
 * standardisation on; both NULL turns it off. Values must be finite and std
 * not negative; otherwise -1 and m is unchanged. */
int kdm_set_standardize(kdm_model *m, const float *mean, const float *std,
                        kd_err *e);

/* kdm_set_names: copy the class names from blob, len bytes holding exactly
 * K NUL-terminated UTF-8 strings back to back (the format of the model
 * file); blob NULL (len 0) removes the names. -1 on a malformed blob or out
 * of memory, m unchanged. */
int kdm_set_names(kdm_model *m, const char *blob, size_t len, kd_err *e);

/* kdm_set_name_list: the same from an array of K strings. */
int kdm_set_name_list(kdm_model *m, const char *const *names, kd_err *e);

/* kdm_name: the name of class k (k < K), or NULL when m has no names. */
const char *kdm_name(const kdm_model *m, size_t k);

/* kdm_params: the parameter array, kdm_nparams(m) floats in the order
 * W_0, b_0, W_1, b_1, ... (the order of kdm_train_grads). */
float *kdm_params(kdm_model *m);
size_t kdm_nparams(const kdm_model *m);

/* ---- inference ---- */

/* kdm_ws: scratch memory for kdm_forward, for batches up to max_batch rows
 * of one model shape. Not shared between threads. */
typedef struct kdm_ws kdm_ws;

/* kdm_ws_new: a workspace for m and batches of at most max_batch rows
 * (1 <= max_batch <= INT_MAX); NULL on a bad size or out of memory. */
kdm_ws *kdm_ws_new(const kdm_model *m, size_t max_batch);

/* kdm_ws_free: release ws; NULL is fine. */
void kdm_ws_free(kdm_ws *ws);

/* kdm_hidden: the activations (after the ReLU) of hidden layer layer (1
 * to n_layers - 1) of m on X (B, D), into out (B, sizes[layer]), using ws.
 * 0, or -1 (nothing written) when the layer does not exist or ws does
 * not fit. */
int kdm_hidden(const kdm_model *m, kdm_ws *ws, const float *X, size_t B, size_t layer,
               float *out);

/* kdm_forward: logits (B,K) of raw inputs X (B,D), standardised inside
 * when m carries a standardisation. No dropout. -1 (nothing written) when
 * B exceeds the workspace's max_batch or ws was made for another shape. */
int kdm_forward(const kdm_model *m, kdm_ws *ws, const float *X, size_t B,
                float *logits);

/* kdm_logits_bad: 0 when the K logits z that model (a path, for the
 * message) gave row `row` (from 0) of data are all finite; else -1 with
 * e naming the data's file line (when line > 0) or row (from 1), the
 * first bad logit and the model: numbers so large that the sums overflow
 * blame the input, not the output */
int kdm_logits_bad(const float *z, size_t K, const char *model, const char *data,
                   size_t row, size_t line, kd_err *e);

/* kdm_live_units: for the raw inputs X (B,D), set live[u] to 1 for every
 * hidden unit u whose ReLU output is above 0 for some row, and leave the
 * others as they were, so that batches can be fed one after another. The
 * units of all hidden layers are numbered back to back: sizes[1] of the
 * first, then sizes[2], ... (kdm_hidden_units of them). A unit never live
 * on a data set is a dead ReLU there: it passes no signal and gets no
 * gradient. -1 (nothing written) as kdm_forward. */
int kdm_live_units(const kdm_model *m, kdm_ws *ws, const float *X, size_t B,
                   unsigned char *live);

/* kdm_hidden_units: the number of hidden units of m, all layers */
size_t kdm_hidden_units(const kdm_model *m);

/* ---- training ---- */

/* the optimizers of kdm_train_step */
enum kdm_optimizer {
	KDM_SGD = 0,  /* SGD with momentum, L2 decay in the gradient */
	KDM_ADAM = 1  /* AdamW (Loshchilov & Hutter 2019): Adam with
	               * beta1 0.9, beta2 0.999, eps 1e-8 and the weight
	               * decay applied to the weights apart from the moments */
};
#define KDM_ADAM_BETA1 0.9
#define KDM_ADAM_BETA2 0.999
#define KDM_ADAM_EPS   1e-8f

/* kdm_opts: training options; all zero is plain SGD without dropout. */
typedef struct kdm_opts {
	int   optimizer;     /* enum kdm_optimizer */
	float input_dropout; /* probability of dropping an input, [0, 1);
	                      * applied after standardisation, so a dropped
	                      * feature takes its mean value */
	float dropout;       /* probability of dropping a hidden unit, [0, 1) */
	float maxnorm;       /* max L2 norm of each unit's incoming weights,
	                      * hidden and output layers; 0 = no limit */
	float momentum;      /* SGD: mu in v = mu*v - lr*g, [0, 1) */
	float weight_decay;  /* on weights (not biases): SGD adds wd*w to the
	                      * gradient, AdamW takes lr*wd*w off the weight */
} kdm_opts;

/* kdm_train: activations, gradients and momentum for training one model
 * on batches of at most max_batch rows. */
typedef struct kdm_train kdm_train;

/* kdm_train_new: training state for m (which it updates in place, and
 * which must outlive it); opts NULL means all zero. NULL on bad options,
 * a bad max_batch (1 to INT_MAX) or out of memory. Momentum starts at 0. */
kdm_train *kdm_train_new(kdm_model *m, size_t max_batch,
                         const kdm_opts *opts, kd_err *e);

/* kdm_train_free: release t (not its model); NULL is fine. */
void kdm_train_free(kdm_train *t);

/* kdm_train_set_opts: change the options between steps (a momentum or
 * dropout schedule); -1 and no change on bad options. */
int kdm_train_set_opts(kdm_train *t, const kdm_opts *opts, kd_err *e);

/* kdm_train_forward: logits (B,K) of raw inputs X (B,D), with dropout
 * drawn from rng (which may be NULL when both dropout rates are 0).
 * Dropout is inverted: kept units are scaled by 1/(1-p), so kdm_forward
 * needs no rescaling. The logits live in t until the next forward; NULL
 * when B is 0 or exceeds max_batch, or rng is missing. */
const float *kdm_train_forward(kdm_train *t, const float *X, size_t B,
                               kdr_rng *rng);

/* kdm_train_backward: the parameter gradients of the last forward, given
 * dlogits (B,K), the gradient of the loss (with its 1/B) from lib/loss.h.
 * The gradients replace the previous ones (no accumulation). */
void kdm_train_backward(kdm_train *t, const float *dlogits);

/* kdm_train_hidden: the output of hidden layer layer (1 to n_layers - 1)
 * in the last forward, (B, sizes[layer]), after its ReLU and dropout: the
 * input of weight layer layer. NULL before any forward or for another
 * layer. Valid until the next forward. */
const float *kdm_train_hidden(const kdm_train *t, size_t layer);

/* kdm_train_backward_hint: kdm_train_backward with a second loss on hidden
 * layer layer (a FitNets hint): dh (B, sizes[layer]), the gradient of that
 * loss with respect to kdm_train_hidden(t, layer), is added to the one the
 * logits send back before it passes the layer's ReLU and dropout. dh NULL
 * (or a layer that is not hidden) is kdm_train_backward. */
void kdm_train_backward_hint(kdm_train *t, const float *dlogits, size_t layer,
                             const float *dh);

/* kdm_train_zero_grads: gradients 0, as those of a batch of no rows (a
 * data-parallel worker with no share of a short last batch adds these to
 * the others' sums); a step then applies only momentum and decay. */
void kdm_train_zero_grads(kdm_train *t);

/* kdm_train_step: one step from the last gradients g, step t counted from
 * 1 (kdm_train_steps + 1), no decay on biases:
 *   SGD:   v = mu*v - lr*(g + wd*w), w += v
 *   AdamW: m = b1*m + (1-b1)*g, s = b2*s + (1-b2)*g^2,
 *          w -= lr * (m/(1-b1^t)) / (sqrt(s/(1-b2^t)) + eps) + lr*wd*w
 * then each unit's incoming weight vector (a row of W_l) longer than
 * maxnorm is scaled back to length maxnorm. Does nothing before the
 * first backward. */
void kdm_train_step(kdm_train *t, float lr);

/* kdm_train_steps, kdm_train_set_steps: the steps taken, which Adam's bias
 * correction counts; set when resuming a run. */
uint64_t kdm_train_steps(const kdm_train *t);
void kdm_train_set_steps(kdm_train *t, uint64_t steps);

/* kdm_train_grads: the gradients of the last backward, kdm_nparams floats
 * aligned with kdm_params. Writable, e.g. to clip them before a step. */
float *kdm_train_grads(kdm_train *t);

/* kdm_train_velocity: the momentum velocities v (SGD) or first moments m
 * (Adam), kdm_nparams floats aligned with kdm_params; writable, to save and
 * restore a checkpoint. */
float *kdm_train_velocity(kdm_train *t);

/* kdm_train_second_moments: Adam's s, likewise; NULL under SGD. */
float *kdm_train_second_moments(kdm_train *t);

/* ---- data augmentation ---- */

/* kdm_shift: out = img moved by dx columns right and dy rows down
 * (negative values move left and up), zeros where nothing moves in:
 * out[y][x] = img[y-dy][x-dx]. img and out are (h,w) row-major and must
 * not overlap. */
void kdm_shift(const float *img, float *out, size_t w, size_t h, int dx,
               int dy);

/* kdm_jitter: out (B, w*h) = each image of X (B, w*h) shifted by its own
 * random dx and dy, both uniform in [-maxshift, maxshift] and drawn from
 * rng in that order, with zero fill. maxshift <= 0 copies X (rng unused,
 * may be NULL). X and out must not overlap. */
void kdm_jitter(const float *X, float *out, size_t B, size_t w, size_t h,
                int maxshift, kdr_rng *rng);

/* kdm_flip: mirror each image of X (B, w*h), in place, left to right
 * (x[y][c] <-> x[y][w-1-c]) with probability 1/2, one draw from rng per
 * image. */
void kdm_flip(float *X, size_t B, size_t w, size_t h, kdr_rng *rng);

/* kdm_mirror: mirror every image of X (B, w*h), in place, left to right. */
void kdm_mirror(float *X, size_t B, size_t w, size_t h);

#endif
