#!/usr/bin/env python3
# Synthetic test pattern (moving bars, a bouncing box, a frame counter band) as Y4M.
import sys, math
w, h, frames = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = sys.stdout.buffer
out.write(f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode())
for f in range(frames):
    out.write(b"FRAME\n")
    y = bytearray(w * h)
    shift = f * 4
    for r in range(h):
        row = r * w
        for c in range(w):
            y[row + c] = (((c + shift) * 255) // w) & 0xff if r < h * 2 // 3 else ((c // 8 + f) % 2) * 200 + 20
    bx = int((w - w // 5) * (0.5 + 0.5 * math.sin(f / 9)))
    by = int((h * 2 // 3 - h // 5) * (0.5 + 0.5 * math.cos(f / 7)))
    for r in range(by, by + h // 5):
        y[r * w + bx: r * w + bx + w // 5] = bytes([235]) * (w // 5)
    out.write(bytes(y))
    cw, ch = w // 2, h // 2
    u = bytes([(128 + int(60 * math.sin((f + c) / 20))) & 0xff for c in range(cw)]) * ch
    v = bytes([(128 + int(60 * math.cos((f + r) / 15))) & 0xff for r in range(ch) for _ in range(1)]) 
    v = b"".join(bytes([(128 + int(60 * math.cos((f + r) / 15))) & 0xff]) * cw for r in range(ch))
    out.write(u); out.write(v)
