"""Assembling generated clips into the finished edit (moviepy and ffmpeg)."""
