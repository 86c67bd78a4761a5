"""Golden files: generated output checked in, compared byte for byte, regenerated only on purpose."""
