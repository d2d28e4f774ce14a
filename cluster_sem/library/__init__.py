"""The scale library (one YAML file per scale) and ``cluster-sem new``, which writes a spec from it."""
from .catalog import LibraryScale, Source, expand, get_scale, library_scales

__all__ = ["LibraryScale", "Source", "expand", "get_scale", "library_scales"]
