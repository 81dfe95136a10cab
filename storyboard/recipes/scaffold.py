"""``storyboard init DIR``: a new project that renders offline at once.

The files are plain data (:func:`project_files`); :func:`write_project` writes them and
refuses to overwrite anything. The reference image is drawn with Pillow, so nothing
binary ships for it.
"""

from __future__ import annotations

import io
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

from storyboard.errors import InputError
from storyboard.recipes.workdir import atomic_write_text

__all__ = ["ProjectExists", "project_files", "reference_image", "write_project", "yaml_string"]

STORYBOARD = """\
# Your first storyboard. Render it (offline and free without KIE_API_KEY):
#   storyboard render storyboard.yaml
# Then edit a prompt and render again: only that scene, and the scene that continues
# from it, are generated again.
storyboard: 1
title: {title}
defaults:
  mode: std              # 720p while you iterate; pro = 1080p
  aspect_ratio: "16:9"
  sound: false
  template: cinematic    # folds camera and style into the prompt
scenes:
  - id: opening
    first_frame: refs/start.png          # the reference image opens the scene
    shots:
      - prompt: Morning light sweeps across a quiet hillside village
        duration: 4
        camera: slow push-in
  - id: follow
    first_frame: {{from: opening}}        # continuity: starts on opening's last frame
    shots:
      - prompt: A red kite rises above the rooftops and drifts towards the hills
        duration: 3
        camera: tilt up
edit:
  transitions:
    - {{between: [opening, follow], type: crossfade, duration: 0.5}}
  titles:
    - {{text: {title}, start: 0.3, duration: 2}}
output: out/{{title}}.mp4
"""

README = """\
# {title}

A storyboard project made with `storyboard init`.

```bash
storyboard validate storyboard.yaml   # every problem at once, with file:line
storyboard plan storyboard.yaml       # what would be generated, and the estimated cost
storyboard render storyboard.yaml     # an offline animatic (free) without KIE_API_KEY
```

- `storyboard.yaml` — the storyboard: scenes, shots, the edit. Paths are relative to it.
- `refs/start.png` — the reference image the first scene opens on; replace it with yours.
- `out/` — the rendered video, its OTIO timeline, contact sheet and report.

With `KIE_API_KEY` set, `storyboard render` generates with Kling 3.0 on kie.ai instead
(it shows the estimated cost first). To make many videos from one pattern, see
`storyboard recipe list`.
"""


class ProjectExists(InputError):
    """Files ``storyboard init`` would write already exist; nothing was written."""

    def __init__(self, existing: list[Path]) -> None:
        super().__init__(", ".join(str(p) for p in existing))
        self.existing = existing


def reference_image(size: tuple[int, int] = (1280, 720)) -> bytes:
    """A hillside village at dawn, as PNG bytes (deterministic)."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(1, height - 1)
        colour = (round(255 - 120 * t), round(200 - 60 * t), round(150 + 60 * t))
        draw.line([(0, y), (width, y)], fill=colour)
    draw.ellipse([width * 0.65, height * 0.15, width * 0.8, height * 0.42], fill=(255, 236, 170))
    draw.polygon(
        [
            (0, height * 0.7),
            (width * 0.4, height * 0.45),
            (width, height * 0.75),
            (width, height),
            (0, height),
        ],
        fill=(70, 110, 70),
    )
    for index in range(5):
        x = width * (0.12 + 0.1 * index)
        top = height * (0.62 - 0.02 * index)
        draw.rectangle([x, top, x + width * 0.06, top + height * 0.1], fill=(235, 225, 205))
        draw.polygon(
            [(x - 8, top), (x + width * 0.03, top - height * 0.06), (x + width * 0.06 + 8, top)],
            fill=(150, 60, 50),
        )
    font = ImageFont.load_default(size=height // 16)
    caption = "reference image: refs/start.png"
    draw.text(
        (width // 2, height - height // 12),
        caption,
        fill="white",
        font=font,
        anchor="ms",
        stroke_width=2,
        stroke_fill="black",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def yaml_string(text: str) -> str:
    """``text`` as a double-quoted YAML scalar (backslashes, quotes, newlines escaped)."""
    dumped = yaml.safe_dump(text, default_style='"', allow_unicode=True, width=float("inf"))
    return dumped.rstrip("\n").removesuffix("\n...").rstrip("\n")


def project_files(title: str) -> dict[str, str | bytes]:
    """Relative path -> content of every file of a new project."""
    return {
        "storyboard.yaml": STORYBOARD.format(title=yaml_string(title)),
        "README.md": README.format(title=" ".join(title.split())),
        "refs/start.png": reference_image(),
    }


def write_project(folder: Path, title: str) -> list[Path]:
    """Write a new project into ``folder``; :class:`ProjectExists` if any file is there."""
    files = project_files(title)
    existing = [folder / name for name in files if (folder / name).exists()]
    if existing:
        raise ProjectExists(existing)
    written = []
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            atomic_write_text(path, content)
        written.append(path)
    return written
