// Sparse matrix x dense product y = K x for the surface network's local coupling (CPU).
//
// Compiled on first use by neuralmass.surface.native (through brainevent.load_cpp_inline, which
// registers it as an XLA FFI target); the pure-JAX gather + segment sum is used where it cannot
// be compiled, and on other platforms.
//
// Layout: rows are visited in `order` (sorted by their number of entries, so the inner loop's trip
// count changes only a few times and its branch is predicted); row order[r] holds the entries
// ptr[r] .. ptr[r+1]-1, each a column col[k] (uint16 when the columns fit: half the index bytes to read
// of int32, else int32) and a weight w[k] (the weights come in this order,
// permuted by the caller, so no second indirection). Lanes are last: x is (n_in, B), w is (nnz,)
// (shared) or (nnz, B), y is (n, B), all row-major. Every row of y is written (rows without
// entries get 0).
#include "brainevent/common.h"

#include <cstdint>

namespace {

template <typename T, typename C, int L>
void rows_chunk(const int32_t* __restrict order, const int32_t* __restrict ptr, const C* __restrict col,
                const T* __restrict w, bool w_lanes, const T* __restrict x, T* __restrict y, int64_t n,
                int64_t B, int64_t b0) {
    for (int64_t r = 0; r < n; ++r) {
        T acc[L];
        for (int j = 0; j < L; ++j) acc[j] = T(0);
        for (int32_t k = ptr[r]; k < ptr[r + 1]; ++k) {
            const T* xr = x + static_cast<int64_t>(col[k]) * B + b0;
            if (w_lanes) {
                const T* wk = w + static_cast<int64_t>(k) * B + b0;
                for (int j = 0; j < L; ++j) acc[j] += wk[j] * xr[j];
            } else {
                const T wk = w[k];
                for (int j = 0; j < L; ++j) acc[j] += wk * xr[j];
            }
        }
        T* yr = y + static_cast<int64_t>(order[r]) * B + b0;
        for (int j = 0; j < L; ++j) yr[j] = acc[j];
    }
}

template <typename T, typename C>
void product(const BE::Tensor& order, const BE::Tensor& ptr, const BE::Tensor& col, const BE::Tensor& w,
             const BE::Tensor& x, BE::Tensor& y) {
    const int64_t n = order.numel();
    const int64_t B = n > 0 ? y.numel() / n : 1;
    const bool w_lanes = w.numel() != col.numel();
    const int32_t* o = order.data_ptr<const int32_t>();
    const int32_t* p = ptr.data_ptr<const int32_t>();
    const C* c = col.data_ptr<const C>();
    const T* wp = w.data_ptr<const T>();
    const T* xp = x.data_ptr<const T>();
    T* yp = y.data_ptr<T>();
    int64_t b = 0;
    for (; b + 8 <= B; b += 8) rows_chunk<T, C, 8>(o, p, c, wp, w_lanes, xp, yp, n, B, b);
    for (; b + 4 <= B; b += 4) rows_chunk<T, C, 4>(o, p, c, wp, w_lanes, xp, yp, n, B, b);
    for (; b < B; ++b) rows_chunk<T, C, 1>(o, p, c, wp, w_lanes, xp, yp, n, B, b);
}

}  // namespace

void csr_product(const BE::Tensor order, const BE::Tensor ptr, const BE::Tensor col, const BE::Tensor w,
                 const BE::Tensor x, BE::Tensor y) {
    const bool narrow = col.dtype() == BE::DType::UInt16;
    if (x.dtype() == BE::DType::Float64) {
        if (narrow) product<double, uint16_t>(order, ptr, col, w, x, y);
        else product<double, int32_t>(order, ptr, col, w, x, y);
    } else {
        if (narrow) product<float, uint16_t>(order, ptr, col, w, x, y);
        else product<float, int32_t>(order, ptr, col, w, x, y);
    }
}
