"""The questionnaire spec: parse + validate YAML, codebook, translation to lavaan syntax."""
from .codebook import codebook
from .loader import load_spec, parse_spec
from .schema import Spec
from .syntax import defined_effects, measurement_syntax, structural_syntax

__all__ = ["load_spec", "parse_spec", "Spec", "codebook", "measurement_syntax", "structural_syntax", "defined_effects"]
