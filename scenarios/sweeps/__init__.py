"""Bundled sweep specs (``re100sim sweep --spec NAME``)."""
