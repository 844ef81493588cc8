"""Seeded synthetic exchange data following the data contract, with planted typologies."""

from linkscope.synth.generator import GeneratorConfig, generate

__all__ = ["GeneratorConfig", "generate"]
