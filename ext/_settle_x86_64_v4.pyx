# The settlement kernel (ext/_settle.pyx) compiled by setup.py for x86-64-v4; chosen at run time by
# simulator/rules/kernel.py when the CPU supports it. The arithmetic is the same, bit for bit.
include "_settle.pyx"
