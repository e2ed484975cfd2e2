#include "util/md5_multi_kernels.h"

#include <immintrin.h>

// GCC 12's gather intrinsics start from an undefined vector and warn about it.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <bit>
#include <cstring>

static_assert(std::endian::native == std::endian::little, "MD5 kernels assume a little-endian CPU");

namespace tb::md5_internal {

bool CpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

bool CpuHasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

// ---- scalar ----
#define MD5_ADD(x, y) ((x) + (y))
#define MD5_ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
#define MD5_K(t) uint32_t{t}
#define MD5_F(b, c, d) ((((c) ^ (d)) & (b)) ^ (d))
#define MD5_G(b, c, d) ((((b) ^ (c)) & (d)) ^ (c))
#define MD5_H(b, c, d) ((b) ^ (c) ^ (d))
#define MD5_I(b, c, d) ((c) ^ ((b) | ~(d)))

void Md5BlocksScalar(uint32_t state[4], const uint8_t* data, size_t nblocks) {
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  for (size_t i = 0; i < nblocks; ++i, data += 64) {
    uint32_t X[16];
    std::memcpy(X, data, 64);
    const uint32_t aa = a, bb = b, cc = c, dd = d;
#include "util/md5_multi_rounds.inc"
    a += aa;
    b += bb;
    c += cc;
    d += dd;
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
}

#undef MD5_ADD
#undef MD5_ROTL
#undef MD5_K
#undef MD5_F
#undef MD5_G
#undef MD5_H
#undef MD5_I

// ---- AVX2: 8 lanes of 32 bits ----
#define MD5_ADD(x, y) _mm256_add_epi32((x), (y))
#define MD5_ROTL(x, s) _mm256_or_si256(_mm256_slli_epi32((x), (s)), _mm256_srli_epi32((x), 32 - (s)))
#define MD5_K(t) _mm256_set1_epi32(static_cast<int>(t))
#define MD5_F(b, c, d) _mm256_xor_si256(_mm256_and_si256(_mm256_xor_si256((c), (d)), (b)), (d))
#define MD5_G(b, c, d) _mm256_xor_si256(_mm256_and_si256(_mm256_xor_si256((b), (c)), (d)), (c))
#define MD5_H(b, c, d) _mm256_xor_si256(_mm256_xor_si256((b), (c)), (d))
#define MD5_I(b, c, d) _mm256_xor_si256((c), _mm256_or_si256((b), _mm256_xor_si256((d), ones)))

__attribute__((target("avx2"))) void Md5BlocksAvx2(uint32_t* state, const uint8_t* base,
                                                   const int32_t* offsets, uint32_t mask, size_t nblocks) {
  auto* st = reinterpret_cast<__m256i*>(state);
  __m256i a = _mm256_loadu_si256(st + 0), b = _mm256_loadu_si256(st + 1);
  __m256i c = _mm256_loadu_si256(st + 2), d = _mm256_loadu_si256(st + 3);
  __m256i ofs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets));
  const __m256i ones = _mm256_set1_epi32(-1);
  const __m256i step = _mm256_set1_epi32(64);
  for (size_t i = 0; i < nblocks; ++i) {
    __m256i X[16];
    for (int j = 0; j < 16; ++j) {
      X[j] = _mm256_i32gather_epi32(reinterpret_cast<const int*>(base + 4 * j), ofs, 1);
    }
    const __m256i aa = a, bb = b, cc = c, dd = d;
#include "util/md5_multi_rounds.inc"
    a = _mm256_add_epi32(a, aa);
    b = _mm256_add_epi32(b, bb);
    c = _mm256_add_epi32(c, cc);
    d = _mm256_add_epi32(d, dd);
    ofs = _mm256_add_epi32(ofs, step);
  }
  __m256i m = _mm256_setzero_si256();
  alignas(32) int32_t bits[8];
  for (int l = 0; l < 8; ++l) bits[l] = (mask >> l) & 1 ? -1 : 0;
  m = _mm256_load_si256(reinterpret_cast<const __m256i*>(bits));
  _mm256_maskstore_epi32(reinterpret_cast<int*>(state) + 0, m, a);
  _mm256_maskstore_epi32(reinterpret_cast<int*>(state) + 8, m, b);
  _mm256_maskstore_epi32(reinterpret_cast<int*>(state) + 16, m, c);
  _mm256_maskstore_epi32(reinterpret_cast<int*>(state) + 24, m, d);
}

#undef MD5_ADD
#undef MD5_ROTL
#undef MD5_K
#undef MD5_F
#undef MD5_G
#undef MD5_H
#undef MD5_I

// ---- AVX-512: 16 lanes of 32 bits; ternary logic and native rotates ----
#define MD5_ADD(x, y) _mm512_add_epi32((x), (y))
#define MD5_ROTL(x, s) _mm512_rol_epi32((x), (s))
#define MD5_K(t) _mm512_set1_epi32(static_cast<int>(t))
#define MD5_F(b, c, d) _mm512_ternarylogic_epi32((b), (c), (d), 0xCA)
#define MD5_G(b, c, d) _mm512_ternarylogic_epi32((b), (c), (d), 0xE4)
#define MD5_H(b, c, d) _mm512_ternarylogic_epi32((b), (c), (d), 0x96)
#define MD5_I(b, c, d) _mm512_ternarylogic_epi32((b), (c), (d), 0x39)

__attribute__((target("avx512f"))) void Md5BlocksAvx512(uint32_t* state, const uint8_t* base,
                                                       const int32_t* offsets, uint32_t mask,
                                                       size_t nblocks) {
  __m512i a = _mm512_loadu_si512(state + 0), b = _mm512_loadu_si512(state + 16);
  __m512i c = _mm512_loadu_si512(state + 32), d = _mm512_loadu_si512(state + 48);
  __m512i ofs = _mm512_loadu_si512(offsets);
  const __m512i step = _mm512_set1_epi32(64);
  for (size_t i = 0; i < nblocks; ++i) {
    __m512i X[16];
    for (int j = 0; j < 16; ++j) X[j] = _mm512_i32gather_epi32(ofs, base + 4 * j, 1);
    const __m512i aa = a, bb = b, cc = c, dd = d;
#include "util/md5_multi_rounds.inc"
    a = _mm512_add_epi32(a, aa);
    b = _mm512_add_epi32(b, bb);
    c = _mm512_add_epi32(c, cc);
    d = _mm512_add_epi32(d, dd);
    ofs = _mm512_add_epi32(ofs, step);
  }
  const __mmask16 m = static_cast<__mmask16>(mask);
  _mm512_mask_storeu_epi32(state + 0, m, a);
  _mm512_mask_storeu_epi32(state + 16, m, b);
  _mm512_mask_storeu_epi32(state + 32, m, c);
  _mm512_mask_storeu_epi32(state + 48, m, d);
}

}  // namespace tb::md5_internal
