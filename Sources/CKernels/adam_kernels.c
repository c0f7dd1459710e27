#include "winnow_kernels.h"

/* Plain loops over restrict pointers: clang's loop vectoriser turns them into packed square roots and
   divisions (llvm.sqrt has no errno, unlike sqrtf). On x86-64 Linux each kernel is also built for AVX2 and
   picked at load time. No fused multiply-adds, so every CPU rounds like the scalar reference. */
#pragma clang fp contract(off)

#if defined(__x86_64__) && defined(__linux__)
#define WINNOW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WINNOW_CLONES
#endif

#define SQRT(x) __builtin_elementwise_sqrt(x)

WINNOW_CLONES
void winnow_adam_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict s, long count,
                      float b1, float b2, float eps, float decay, float l2, float step_size, float inverse_root_c2) {
    for (long i = 0; i < count; i++) {
        float theta = p[i];
        float gi = g[i] + l2 * theta;
        float mi = b1 * m[i] + (1 - b1) * gi;
        float si = b2 * s[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        s[i] = si;
        p[i] = theta * decay - step_size * mi / (SQRT(si) * inverse_root_c2 + eps);
    }
}

/* Branch-free: s = 0 only when every gradient so far was 0, where m = g = 0 and the chain term vanishes
   (the 1e-30 keeps 0/0 out). */
static inline float derivative(float g, float m, float s, float k, float b1, float b2, float eps_prime) {
    float root = SQRT(s), denominator = root + eps_prime;
    float chain = m * (1 - b2) * g / (root + 1e-30f);
    return k * ((1 - b1) * denominator - chain) / (denominator * denominator);
}

WINNOW_CLONES
void winnow_adam_derivative(float *restrict out, const float *restrict g, const float *restrict m,
                            const float *restrict s, long count, float k, float b1, float b2, float eps_prime) {
    for (long i = 0; i < count; i++) out[i] = derivative(g[i], m[i], s[i], k, b1, b2, eps_prime);
}

WINNOW_CLONES
void winnow_adam_adapt_over_gradient(float *restrict g, const float *restrict x, const float *restrict m,
                                     const float *restrict s, long count, float k, float b1, float b2, float eps_prime) {
    for (long i = 0; i < count; i++) g[i] = derivative(g[i], m[i], s[i], k, b1, b2, eps_prime) * x[i];
}
