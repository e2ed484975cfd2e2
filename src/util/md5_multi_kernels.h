// MD5 compression kernels behind Md5Multi (internal; use util/md5_multi.h).
//
// State layout for the SIMD kernels: 4 rows (A, B, C, D) of `lanes` uint32 words each
// ("structure of arrays"), so that row r of lane l is state[r * lanes + l].
// Lane l's message blocks are read from base + offsets[l] + 64 * i for i in [0, nblocks).
// Only lanes whose bit is set in `mask` have their state updated; the others are still
// read (their offsets must point at nblocks * 64 readable bytes) and their results dropped.
// The SIMD kernels are compiled with target attributes; call them only when
// CpuHasAvx2() / CpuHasAvx512() say so.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tb::md5_internal {

inline constexpr uint32_t kIv[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

bool CpuHasAvx2();
bool CpuHasAvx512();  // AVX-512 F

// One message: state[4] = A, B, C, D; data holds nblocks * 64 bytes.
void Md5BlocksScalar(uint32_t state[4], const uint8_t* data, size_t nblocks);
// 8 lanes.
void Md5BlocksAvx2(uint32_t* state, const uint8_t* base, const int32_t* offsets, uint32_t mask,
                   size_t nblocks);
// 16 lanes.
void Md5BlocksAvx512(uint32_t* state, const uint8_t* base, const int32_t* offsets, uint32_t mask,
                     size_t nblocks);

}  // namespace tb::md5_internal
