#ifndef WINNOW_KERNELS_H
#define WINNOW_KERNELS_H
/* Per-element optimizer loops in C: clang vectorises the square roots and divisions here (8 lanes, AVX2 when
   the CPU has it, chosen at load time), which Swift's SIMD8 squareRoot() does not (it lowers to eight scalar
   sqrtss with a branch each). */

/* One Adam update in place of p (θ), m and s. decay = 1 − γλ (AdamW) or 1; l2 = λ (Adam + L2) or 0. */
void winnow_adam_step(float *p, const float *g, float *m, float *s, long count, float b1, float b2, float eps,
                      float decay, float l2, float step_size, float inverse_root_c2);

/* ∂u/∂g of Adam's last step: k·[(1−β1)·(√s + ε') − m·(1−β2)·g/√s] / (√s + ε')², written to out. */
void winnow_adam_derivative(float *out, const float *g, const float *m, const float *s, long count, float k,
                            float b1, float b2, float eps_prime);

/* g ← (∂u/∂g)(g, m, s) ⊙ x in one pass, written over the last gradient it is computed from (SAMA's v = A ⊙ x in
   the buffer of Adam's last gradient, without materialising A or copying). */
void winnow_adam_adapt_over_gradient(float *g, const float *x, const float *m, const float *s, long count, float k,
                                     float b1, float b2, float eps_prime);
#endif
