"""Seeded synthetic exchange data following the data contract, with planted typologies."""

from synth.generator import GeneratorConfig, generate

__all__ = ["GeneratorConfig", "generate"]
