"""Reading tables, encoding them, and built-in data sets."""

from aedetect.data.encoding import TabularEncoder, as_frame

__all__ = ["TabularEncoder", "as_frame"]
