"""Which CPU a figure was measured on, and the arithmetic limits it is compared to.

The limits are computed from what /proc/cpuinfo says (vendor, family, model,
flags, clock) and the cores this process may use:

- float32 FMA: vector width (AVX-512: 16 floats, AVX2: 8) x FMA units per core
  x 2 FLOP. Intel cores with AVX-512 have two 512-bit FMA units (server
  parts; a few have one: the limit is then an upper bound). AMD Zen 4
  (family 25 with AVX-512) executes a 512-bit FMA on its two 256-bit pipes
  ("double-pumped"): one 512-bit FMA per cycle, 32 FLOP per cycle, no more
  than AVX2. Zen 5 (family 26) has full-width 512-bit pipes.
- AVX-512 BF16 (`avx512_bf16`, VDPBF16PS): two bf16 products per float lane,
  twice the float32 rate on the same units.
- AMX BF16 (`amx_bf16`, `amx_tile`): one TDPBF16PS tile product (16 x 16 x 32
  multiply-adds) per 16 cycles per core: 1,024 FLOP per cycle.

The clock is the one /proc/cpuinfo reports (nominal; turbo is not counted).
"""

import os

AMX_BF16_FLOP_PER_CYCLE = 1024  # 16 x 16 x 32 multiply-adds per 16 cycles


def cpu_info(path="/proc/cpuinfo"):
    """The first processor's vendor, family, model, name, MHz and flags."""
    fields = {}
    try:
        with open(path) as info:
            for line in info:
                if not line.strip():
                    break  # the first processor only
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return {
        "vendor": fields.get("vendor_id", "unknown"),
        "family": int(fields.get("cpu family", 0) or 0),
        "model": int(fields.get("model", 0) or 0),
        "name": fields.get("model name", "unknown CPU"),
        "mhz": float(fields.get("cpu MHz", 0) or 0),
        "flags": set(fields.get("flags", "").split()),
        "cores": len(os.sched_getaffinity(0)),
    }


def fp32_flop_per_cycle(info):
    """float32 FLOP per cycle and core of FMA instructions, and how it was found."""
    flags, amd = info["flags"], info["vendor"] == "AuthenticAMD"
    if "avx512f" in flags:
        if amd and info["family"] == 25:
            return 32, "AVX-512 on Zen 4: double-pumped on two 256-bit pipes"
        if amd:
            return 64, "AVX-512, two full-width 512-bit FMA pipes"
        return 64, "AVX-512, two 512-bit FMA units"
    if "fma" in flags and "avx2" in flags:
        return 32, "AVX2, two 256-bit FMA units"
    return 8, "no FMA vectors: SSE estimate"


def limits(info):
    """`{name: (GFLOP/s, how)}`: float32 FMA, AVX-512 BF16 and AMX BF16 limits
    of `info["cores"]` cores at `info["mhz"]` (those the flags allow)."""
    ghz_cores = info["mhz"] / 1000 * info["cores"]
    fp32, how = fp32_flop_per_cycle(info)
    found = {"float32 FMA": (ghz_cores * fp32, how)}
    if "avx512_bf16" in info["flags"]:
        found["bfloat16 FMA (avx512_bf16)"] = (ghz_cores * 2 * fp32, f"2 x {how}")
    if {"amx_bf16", "amx_tile"} <= info["flags"]:
        found["bfloat16 AMX tiles (amx_bf16)"] = (
            ghz_cores * AMX_BF16_FLOP_PER_CYCLE,
            "1,024 FLOP per cycle and core",
        )
    return found


def describe(info):
    """Lines naming the CPU, its family/model, the flags that matter, and limits."""
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
    flags = ", ".join(f for f in wanted if f in info["flags"]) or "none"
    lines = [
        f"CPU: {info['name']} ({info['vendor']}, family {info['family']}, model "
        f"{info['model']}), {info['cores']} cores at {info['mhz']:,.0f} MHz; "
        f"flags: {flags}"
    ]
    for name, (gflops, how) in limits(info).items():
        lines.append(f"limit, {name}: {gflops:,.0f} GFLOP/s ({how})")
    return lines
