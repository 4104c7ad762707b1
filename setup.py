"""Build the Cython settlement kernels in ``ext/`` (metadata lives in pyproject.toml).

The kernel's inner loops are fixed-length loops over a tile of hours that the compiler
vectorises. The build is portable: ``re100sim.ext._settle`` is compiled for the baseline of the
architecture (SSE2 on x86-64), and on x86-64 the same source is compiled twice more, for
x86-64-v3 (AVX2) and x86-64-v4 (AVX-512); ``simulator/rules/kernel.py`` imports the widest one
the running CPU supports. ``-ffp-contract=off`` keeps the compiler from fusing a multiply and
an add into one FMA (one rounding instead of two), so every variant, and a build on any
machine, gives the same results bit for bit (docs/settlement-kernel.md#build-and-variants).
Set ``RE100SIM_KERNEL_VARIANTS=0`` to build the baseline module only. ``re100sim.ext._loads``
(the load model's fused elementwise passes, simulator/inputs/load.py) is built once, for the baseline,
with the same ``-ffp-contract=off``.
"""
import os
import platform

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

COMPILE_ARGS = ["-O3", "-ffp-contract=off"]
# (module suffix, extra flags); x86-64 only: other architectures build the baseline module.
X86_VARIANTS = [("_x86_64_v3", ["-march=x86-64-v3"]),
                ("_x86_64_v4", ["-march=x86-64-v4", "-mprefer-vector-width=512"])]

variants = [("", [])]
if platform.machine().lower() in ("x86_64", "amd64") and os.environ.get("RE100SIM_KERNEL_VARIANTS", "1") != "0":
    variants += X86_VARIANTS

extensions = [
    Extension(
        f"re100sim.ext._settle{suffix}",
        [f"ext/_settle{suffix}.pyx"],
        include_dirs=[np.get_include()],
        extra_compile_args=COMPILE_ARGS + flags,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for suffix, flags in variants
] + [
    # the load model's fused elementwise passes: memory-bound, the baseline build is enough
    Extension("re100sim.ext._loads", ["ext/_loads.pyx"], extra_compile_args=COMPILE_ARGS),
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )
)
