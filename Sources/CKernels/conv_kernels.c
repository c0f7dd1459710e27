#include "winnow_kernels.h"

#include <string.h>

/* Memory-bound loops of convolution and pooling (NCHW). Plain copies and comparisons, no arithmetic except
   col2im's sums, which add each input element's contributions in the same order as the reference loop (output
   position, then channel, then tap): the results are bit-for-bit those of the naive loops. The window loops are
   specialised for 3 × 3 and 2 × 2 windows (constant trip counts the compiler unrolls) and kept general. */

#define ALWAYS_INLINE __attribute__((always_inline)) static inline

static long clamp_long(long v, long lo, long hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* im2col's scratch for one band of window rows (see below) on the stack, up to this many floats; bigger bands
   take the per-window path. */
enum { band_capacity = 4096 };

/* The band of output row i: for every channel and tap row di, input row i·sh − ph + di with its padding, `span`
   wide (zeros outside the image). Every window of the output row then reads kh runs of kw from it without bounds
   checks. */
ALWAYS_INLINE void load_band(const float *restrict image, float *restrict band, long c, long h, long w, long kh,
                             long y0, long pw, long span) {
    long lo = clamp_long(pw, 0, span), hi = clamp_long(w + pw, lo, span);
    for (long ch = 0; ch < c; ch++) {
        for (long di = 0; di < kh; di++, band += span) {
            long y = y0 + di;
            if (y < 0 || y >= h) {
                for (long t = 0; t < span; t++) band[t] = 0;
                continue;
            }
            long start = (ch * h + y) * w - pw; /* the taps read, lo..<hi, lie in pw..<w + pw: inside the row */
            for (long t = 0; t < lo; t++) band[t] = 0;
            for (long t = lo; t < hi; t++) band[t] = image[start + t];
            for (long t = hi; t < span; t++) band[t] = 0;
        }
    }
}

ALWAYS_INLINE void im2col_impl(const float *restrict x, float *restrict cols, long n, long c, long h, long w,
                               long kh, long kw, long sh, long sw, long ph, long pw) {
    long oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
    if (oh <= 0 || ow <= 0) return;
    long span = (ow - 1) * sw + kw;
    float *out = cols;
    if (c * kh * span <= band_capacity) {
        float band[band_capacity];
        for (long b = 0; b < n; b++) {
            const float *image = x + b * c * h * w;
            for (long i = 0; i < oh; i++) {
                load_band(image, band, c, h, w, kh, i * sh - ph, pw, span);
                for (long j = 0; j < ow; j++) {
                    const float *tap = band + j * sw;
                    for (long ch = 0; ch < c; ch++, tap += kh * span, out += kh * kw)
                        for (long di = 0; di < kh; di++)
                            for (long dj = 0; dj < kw; dj++) out[di * kw + dj] = tap[di * span + dj];
                }
            }
        }
        return;
    }
    /* Per window: the taps lo..<hi of a window row fall inside the image, the others are padding. */
    for (long b = 0; b < n; b++) {
        const float *image = x + b * c * h * w;
        for (long i = 0; i < oh; i++) {
            long y0 = i * sh - ph;
            for (long j = 0; j < ow; j++) {
                long x0 = j * sw - pw;
                long lo = clamp_long(-x0, 0, kw), hi = clamp_long(w - x0, lo, kw);
                for (long ch = 0; ch < c; ch++) {
                    const float *plane = image + ch * h * w;
                    for (long di = 0; di < kh; di++, out += kw) {
                        long y = y0 + di;
                        if (y < 0 || y >= h) {
                            for (long dj = 0; dj < kw; dj++) out[dj] = 0;
                            continue;
                        }
                        long start = y * w + x0;
                        for (long dj = 0; dj < lo; dj++) out[dj] = 0;
                        for (long dj = lo; dj < hi; dj++) out[dj] = plane[start + dj];
                        for (long dj = hi; dj < kw; dj++) out[dj] = 0;
                    }
                }
            }
        }
    }
}

void winnow_im2col(const float *x, float *cols, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                   long ph, long pw) {
    if (kh == 3 && kw == 3)
        im2col_impl(x, cols, n, c, h, w, 3, 3, sh, sw, ph, pw);
    else if (kh == 2 && kw == 2)
        im2col_impl(x, cols, n, c, h, w, 2, 2, sh, sw, ph, pw);
    else
        im2col_impl(x, cols, n, c, h, w, kh, kw, sh, sw, ph, pw);
}

/* The sums run in the reference order for every input element: output positions in turn, and within one the
   channels and taps in column order. (A band of rows as in im2col, loaded, added to and stored back per output
   row, keeps the order too but measured slower: the overlapping windows' additions chain through memory.) */
ALWAYS_INLINE void col2im_impl(const float *restrict cols, float *restrict x, long n, long c, long h, long w,
                               long kh, long kw, long sh, long sw, long ph, long pw) {
    long oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
    memset(x, 0, (size_t)(n * c * h * w) * sizeof(float));
    const float *in = cols;
    for (long b = 0; b < n; b++) {
        float *image = x + b * c * h * w;
        for (long i = 0; i < oh; i++) {
            long y0 = i * sh - ph;
            for (long j = 0; j < ow; j++) {
                long x0 = j * sw - pw;
                /* Taps lo..<hi of a window row fall inside the image; the others are padding. */
                long lo = clamp_long(-x0, 0, kw), hi = clamp_long(w - x0, lo, kw);
                for (long ch = 0; ch < c; ch++) {
                    float *plane = image + ch * h * w;
                    for (long di = 0; di < kh; di++, in += kw) {
                        long y = y0 + di;
                        if (y < 0 || y >= h) continue;
                        long start = y * w + x0;
                        for (long dj = lo; dj < hi; dj++) plane[start + dj] += in[dj];
                    }
                }
            }
        }
    }
}

void winnow_col2im(const float *cols, float *x, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                   long ph, long pw) {
    if (kh == 3 && kw == 3)
        col2im_impl(cols, x, n, c, h, w, 3, 3, sh, sw, ph, pw);
    else if (kh == 2 && kw == 2)
        col2im_impl(cols, x, n, c, h, w, 2, 2, sh, sw, ph, pw);
    else
        col2im_impl(cols, x, n, c, h, w, kh, kw, sh, sw, ph, pw);
}

void winnow_swap_middle_axes(const float *restrict in, float *restrict out, long batch, long rows, long cols,
                             long inner) {
    long matrix = rows * cols * inner;
    if (inner == 1) {
        /* Blocks of 8 rows: each column's 8 elements (one strided read per row) become 8 contiguous writes, and
           the 8 source rows stay in cache across the columns. */
        enum { block = 8 };
        for (long b = 0; b < batch; b++) {
            const float *src = in + b * matrix;
            float *dst = out + b * matrix;
            long r0 = 0;
            for (; r0 + block <= rows; r0 += block) {
                for (long q = 0; q < cols; q++) {
                    float *d = dst + q * rows + r0;
                    const float *s = src + r0 * cols + q;
                    for (long k = 0; k < block; k++) d[k] = s[k * cols];
                }
            }
            for (long r = r0; r < rows; r++)
                for (long q = 0; q < cols; q++) dst[q * rows + r] = src[r * cols + q];
        }
        return;
    }
    size_t bytes = (size_t)inner * sizeof(float);
    for (long b = 0; b < batch; b++) {
        const float *src = in + b * matrix;
        float *dst = out + b * matrix;
        for (long q = 0; q < cols; q++)
            for (long r = 0; r < rows; r++) memcpy(dst + (q * rows + r) * inner, src + (r * cols + q) * inner, bytes);
    }
}

ALWAYS_INLINE void max_pool_impl(const float *restrict x, float *restrict y, long *restrict indices, long planes,
                                 long h, long w, long kh, long kw, long sh, long sw) {
    long oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1;
    long o = 0;
    for (long p = 0; p < planes; p++) {
        long base = p * h * w;
        for (long i = 0; i < oh; i++) {
            for (long j = 0; j < ow; j++) {
                long first = base + i * sh * w + j * sw, best = first;
                float value = x[best];
                for (long di = 0; di < kh; di++) {
                    for (long dj = 0; dj < kw; dj++) {
                        long index = first + di * w + dj;
                        if (x[index] > value) {
                            best = index;
                            value = x[index];
                        }
                    }
                }
                y[o] = value;
                indices[o] = best;
                o++;
            }
        }
    }
}

void winnow_max_pool2d(const float *x, float *y, long *indices, long planes, long h, long w, long kh, long kw, long sh,
                       long sw) {
    if (kh == 2 && kw == 2)
        max_pool_impl(x, y, indices, planes, h, w, 2, 2, sh, sw);
    else
        max_pool_impl(x, y, indices, planes, h, w, kh, kw, sh, sw);
}
