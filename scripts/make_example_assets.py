"""Regenerate the small reference images, video and music the examples ship.

Run from the repository root: ``python scripts/make_example_assets.py``. Deterministic.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from storyboard.media.ffmpeg import run_ffmpeg

ROOT = Path(__file__).resolve().parent.parent / "examples"


def gradient(
    size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(1, height - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    return image


def label(image: Image.Image, text: str) -> None:
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(18, image.height // 14))
    draw.text(
        (image.width // 2, image.height - image.height // 10),
        text,
        fill="white",
        font=font,
        anchor="ms",
        stroke_width=2,
        stroke_fill="black",
    )


def room() -> Image.Image:
    image = gradient((1280, 720), (250, 236, 200), (170, 130, 90))
    draw = ImageDraw.Draw(image)
    draw.rectangle([820, 90, 1120, 380], fill=(200, 230, 255), outline=(90, 70, 50), width=12)
    draw.line([(970, 90), (970, 380)], fill=(90, 70, 50), width=8)
    draw.polygon([(820, 380), (1120, 380), (900, 700), (500, 700)], fill=(255, 245, 200))
    draw.rectangle([120, 330, 520, 560], fill=(40, 30, 30))  # piano
    draw.rectangle([140, 350, 500, 400], fill=(240, 240, 240))
    label(image, "rehearsal room")
    return image


def dog(variant: int) -> Image.Image:
    image = gradient((512, 512), (120, 180, 120), (60, 110, 60))
    draw = ImageDraw.Draw(image)
    x = 60 * variant
    draw.ellipse([110 + x, 220, 390 + x, 380], fill=(220, 165, 60))  # body
    draw.ellipse([300 + x - 2 * x, 140, 420 + x - 2 * x, 260], fill=(230, 175, 70))  # head
    for leg in (140, 200, 300, 350):
        draw.rectangle([leg + x, 360, leg + x + 22, 450], fill=(200, 150, 50))
    label(image, f"dog ref {variant + 1}")
    return image


def cat_still(size: tuple[int, int] = (640, 360)) -> Image.Image:
    image = gradient(size, (90, 90, 110), (50, 50, 60))
    draw = ImageDraw.Draw(image)
    draw.ellipse([240, 150, 420, 280], fill=(150, 150, 155))
    draw.polygon([(380, 120), (400, 160), (360, 160)], fill=(150, 150, 155))
    draw.polygon([(430, 120), (450, 160), (410, 160)], fill=(150, 150, 155))
    draw.ellipse([360, 130, 460, 220], fill=(160, 160, 165))
    label(image, "grey tabby (ref video)")
    return image


def sunset() -> Image.Image:
    image = gradient((1280, 720), (255, 150, 80), (60, 30, 90))
    draw = ImageDraw.Draw(image)
    draw.ellipse([540, 300, 740, 500], fill=(255, 210, 120))
    draw.rectangle([0, 480, 1280, 720], fill=(30, 40, 70))
    label(image, "harbour at sunset")
    return image


def bottle() -> Image.Image:
    image = gradient((720, 1280), (235, 235, 240), (180, 190, 205))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([250, 420, 470, 1050], radius=60, fill=(40, 120, 200))
    draw.rectangle([320, 300, 400, 430], fill=(40, 120, 200))
    draw.rectangle([310, 260, 410, 310], fill=(20, 20, 30))
    draw.rectangle([270, 640, 450, 800], fill=(250, 250, 250))
    label(image, "AURORA water bottle")
    return image


def main() -> None:
    refs = ROOT / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    room().save(refs / "room.png", optimize=True)
    dog(0).save(refs / "dog-1.png", optimize=True)
    dog(1).save(refs / "dog-2.png", optimize=True)
    sunset().save(refs / "harbour.png", optimize=True)
    bottle().save(refs / "bottle.png", optimize=True)
    bottle().transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(refs / "bottle-2.png", optimize=True)
    cat = refs / "cat.png"
    cat_still().save(cat)
    run_ffmpeg(
        [
            "-y",
            "-v",
            "error",
            "-loop",
            "1",
            "-i",
            str(cat),
            "-t",
            "2",
            "-r",
            "12",
            "-vf",
            "format=yuv420p",
            "-c:v",
            "libx264",
            "-crf",
            "30",
            "-fflags",
            "+bitexact",
            "-map_metadata",
            "-1",
            str(refs / "cat.mp4"),
        ]
    )
    cat.unlink()
    audio = ROOT / "audio"
    audio.mkdir(exist_ok=True)
    run_ffmpeg(
        [
            "-y",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "aevalsrc=0.2*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.15*sin(2*PI*330*t)"
            ":s=44100:d=20",
            "-ac",
            "2",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "64k",
            "-map_metadata",
            "-1",
            str(audio / "theme.mp3"),
        ]
    )


if __name__ == "__main__":
    main()
