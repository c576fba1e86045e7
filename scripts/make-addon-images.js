#!/usr/bin/env node
// Draws the Home Assistant add-on's icon.png (128×128) and logo.png (250×100): a charger whose line splits
// into a primary and a secondary CSMS. Plain PNG from node:zlib, no image library:
//   node scripts/make-addon-images.js            (writes ocpp-splitter/icon.png and ocpp-splitter/logo.png)
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { deflateSync } from 'node:zlib';

const SUPERSAMPLE = 4;

const BLUE = [3, 105, 161];
const TEAL = [16, 185, 129];
const WHITE = [255, 255, 255];
const AMBER = [251, 191, 36];

/** A canvas of premultiplied-free RGBA floats (0..1 alpha) drawn with coverage-based anti-aliasing. */
function canvas(width, height) {
  const pixels = new Float64Array(width * height * 4);
  /** Paints `color` with `alpha` wherever `inside(x, y)` holds, x/y in pixel units (sub-pixel sampled). */
  function fill(color, inside, alpha = 1) {
    for (let py = 0; py < height; py++) {
      for (let px = 0; px < width; px++) {
        let hits = 0;
        for (let sy = 0; sy < SUPERSAMPLE; sy++) {
          for (let sx = 0; sx < SUPERSAMPLE; sx++) {
            if (inside(px + (sx + 0.5) / SUPERSAMPLE, py + (sy + 0.5) / SUPERSAMPLE)) hits++;
          }
        }
        if (hits === 0) continue;
        const a = (alpha * hits) / (SUPERSAMPLE * SUPERSAMPLE);
        const i = (py * width + px) * 4;
        const outA = a + pixels[i + 3] * (1 - a);
        for (let c = 0; c < 3; c++) {
          pixels[i + c] = outA === 0 ? 0 : (color[c] * a + pixels[i + c] * pixels[i + 3] * (1 - a)) / outA;
        }
        pixels[i + 3] = outA;
      }
    }
  }
  function png() {
    const raw = Buffer.alloc((width * 4 + 1) * height);
    for (let y = 0; y < height; y++) {
      raw[y * (width * 4 + 1)] = 0; // filter: none
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        const o = y * (width * 4 + 1) + 1 + x * 4;
        raw[o] = Math.round(pixels[i]);
        raw[o + 1] = Math.round(pixels[i + 1]);
        raw[o + 2] = Math.round(pixels[i + 2]);
        raw[o + 3] = Math.round(pixels[i + 3] * 255);
      }
    }
    const header = Buffer.alloc(13);
    header.writeUInt32BE(width, 0);
    header.writeUInt32BE(height, 4);
    header[8] = 8; // bit depth
    header[9] = 6; // colour type: RGBA
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('IDAT', deflateSync(raw, { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }
  return { fill, png };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

// ── shapes: predicates over (x, y) ──────────────────────────────────────────
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx, cy, r, width) => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  return d <= r && d >= r - width;
};
const roundedRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const dx = Math.max(x0 + r - x, 0, x - (x1 - r));
  const dy = Math.max(y0 + r - y, 0, y - (y1 - r));
  return dx * dx + dy * dy <= r * r;
};
/** A line from a to b, `width` wide, with round caps. */
const segment = (ax, ay, bx, by, width) => (x, y) => {
  const vx = bx - ax;
  const vy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)));
  return Math.hypot(x - (ax + t * vx), y - (ay + t * vy)) <= width / 2;
};
const polygon = (points) => (x, y) => {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
};
/** A lightning bolt centred on (cx, cy), `size` tall. */
const bolt = (cx, cy, size) =>
  polygon(
    [
      [0.12, -0.5],
      [-0.3, 0.06],
      [-0.02, 0.06],
      [-0.14, 0.5],
      [0.3, -0.08],
      [0.02, -0.08],
    ].map(([x, y]) => [cx + x * size, cy + y * size]),
  );

/** The splitter diagram: charger node at (x0, cy), split point, primary above right, secondary below right. */
function diagram(draw, { x0, cy, split, x1, spread, node, line, boltColor, lineColor, primaryColor, secondaryColor, background }) {
  draw.fill(lineColor, segment(x0, cy, split, cy, line));
  draw.fill(lineColor, segment(split, cy, x1, cy - spread, line));
  draw.fill(lineColor, segment(split, cy, x1, cy + spread, line * 0.7), 0.85);
  draw.fill(lineColor, circle(split, cy, line * 1.25));
  draw.fill(WHITE, circle(x0, cy, node));
  draw.fill(boltColor, bolt(x0, cy, node * 1.55));
  draw.fill(primaryColor, circle(x1, cy - spread, node * 0.78));
  draw.fill(background, circle(x1, cy + spread, node * 0.78));
  draw.fill(secondaryColor, ring(x1, cy + spread, node * 0.78, node * 0.3));
}

function icon() {
  const size = 128;
  const draw = canvas(size, size);
  draw.fill(BLUE, roundedRect(0, 0, size, size, 26));
  diagram(draw, {
    x0: 34,
    cy: 64,
    split: 66,
    x1: 100,
    spread: 30,
    node: 20,
    line: 8,
    boltColor: AMBER,
    lineColor: WHITE,
    primaryColor: TEAL,
    secondaryColor: WHITE,
    background: BLUE,
  });
  // The primary node gets a white rim so it reads on the blue background.
  draw.fill(WHITE, ring(100, 34, 16, 3.5));
  return draw.png();
}

function logo() {
  const draw = canvas(250, 100);
  draw.fill(BLUE, roundedRect(4, 4, 246, 96, 20));
  diagram(draw, {
    x0: 52,
    cy: 50,
    split: 125,
    x1: 198,
    spread: 24,
    node: 18,
    line: 7,
    boltColor: AMBER,
    lineColor: WHITE,
    primaryColor: TEAL,
    secondaryColor: WHITE,
    background: BLUE,
  });
  draw.fill(WHITE, ring(198, 26, 14, 3.2));
  return draw.png();
}

const folder = new URL('../ocpp-splitter/', import.meta.url);
writeFileSync(new URL('icon.png', folder), icon());
writeFileSync(new URL('logo.png', folder), logo());
process.stdout.write('wrote ocpp-splitter/icon.png and ocpp-splitter/logo.png\n');
