"""Reproductions of the source documents' numbers, one module per experiment (``re100sim reproduce``).

Installed as ``re100sim.reproductions``; the registry, tables, figures and manifests are in
``re100sim.simulator.reproduce``. Each module has ``run(spec, *, fast) -> Outcome``; its
versioned experiment file is ``scenarios/NAME.yaml`` beside it.
"""
