"""Media I/O: the one place that runs the ffmpeg binary imageio-ffmpeg ships."""
