"""Tests of storyboard.edit (assembly)."""
