"""Draw the extension's icon (a camera on a yellow tile) - made here, not borrowed.

`python -m spx_tools.icon extension/icon.png` rewrites the committed PNG.
"""

from __future__ import annotations

import sys
from pathlib import Path

SIZE = 256
YELLOW = (0, 204, 255)  # BGR
DARK = (40, 40, 40)
GLASS = (150, 110, 60)
WHITE = (255, 255, 255)


def draw(size: int = SIZE):
    """The icon as a BGRA numpy array (`size` x `size`, transparent corners)."""
    import cv2
    import numpy as np

    scale = size / SIZE
    image = np.zeros((size, size, 4), np.uint8)

    def box(x0, y0, x1, y1, radius, color):
        radius = int(radius * scale)
        x0, y0, x1, y1 = (int(v * scale) for v in (x0, y0, x1, y1))
        for cx, cy in ((x0 + radius, y0 + radius), (x1 - radius, y0 + radius),
                       (x0 + radius, y1 - radius), (x1 - radius, y1 - radius)):
            cv2.circle(image, (cx, cy), radius, (*color, 255), -1, cv2.LINE_AA)
        cv2.rectangle(image, (x0 + radius, y0), (x1 - radius, y1), (*color, 255), -1)
        cv2.rectangle(image, (x0, y0 + radius), (x1, y1 - radius), (*color, 255), -1)

    def disc(cx, cy, radius, color):
        cv2.circle(image, (int(cx * scale), int(cy * scale)), int(radius * scale),
                   (*color, 255), -1, cv2.LINE_AA)

    box(8, 8, 248, 248, 40, YELLOW)  # tile
    box(40, 84, 216, 204, 18, DARK)  # camera body
    box(84, 64, 140, 92, 8, DARK)  # viewfinder hump
    disc(128, 144, 46, YELLOW)  # lens ring
    disc(128, 144, 36, DARK)
    disc(128, 144, 26, GLASS)  # glass
    disc(116, 132, 8, WHITE)  # glint
    disc(190, 104, 7, YELLOW)  # status light
    return image


def write(path: Path) -> None:
    """Write the icon as PNG to `path`."""
    import cv2

    ok, data = cv2.imencode(".png", draw(), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    path.write_bytes(data.tobytes())


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "extension/icon.png"))
