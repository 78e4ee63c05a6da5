#!/usr/bin/env node
// Regenerates fixtures/selfies/ (good images) and fixtures/bad/ (bad or odd files) for the selfie
// checks. Deterministic: every random choice comes from a seeded generator, so re-running the
// script writes the same bytes (for the same sharp/libvips build).
//
// The "selfies" are synthetic: an SVG portrait rendered by sharp, then given skin-like texture,
// uneven lighting and sensor noise so that exposure, blur and colour statistics behave like a
// phone photo rather than a flat drawing. The synthesis helpers are exported for the benchmark
// (test/bench/selfie-check.mjs); the fixtures are written only when this file is run directly.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { deflateSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';

/** mulberry32: a tiny seeded PRNG; returns a function giving floats in [0, 1). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SKIN_TONES = [
  [241, 194, 167],
  [224, 172, 140],
  [198, 134, 98],
  [161, 102, 70],
  [120, 76, 52],
  [88, 57, 40],
];
const HAIR = ['#1c1410', '#3b2619', '#5a3a22', '#8a5a2b', '#26211f', '#6b4e3a'];
const SHIRTS = ['#2f5d8a', '#8a2f3c', '#3d7a4f', '#c9a227', '#5b4a8a', '#d8d2c4', '#2b2b2b'];
const WALLS = [
  ['#cfd8dc', '#9fb0b8'],
  ['#e8dcc8', '#b9a78c'],
  ['#d7e3d0', '#9fb39a'],
  ['#e3d3d8', '#b39aa3'],
  ['#d9d4ea', '#a39dbd'],
];

const hex = ([r, g, b]) =>
  `#${[r, g, b]
    .map((v) =>
      Math.max(0, Math.min(255, Math.round(v)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
const shade = (rgb, f) => rgb.map((v) => v * f);

/**
 * An SVG portrait in a 640×800 coordinate space (scaled to width×height by the viewBox).
 * `pose` shifts and turns the head a little, for liveness frames.
 */
export function faceSvg({ seed, width = 640, height = 800, pose = { dx: 0, dy: 0, tilt: 0, turn: 0 } }) {
  const rnd = seededRandom(seed);
  const pick = (list) => list[Math.floor(rnd() * list.length)];
  const skin = pick(SKIN_TONES);
  const hair = pick(HAIR);
  const shirt = pick(SHIRTS);
  const [wallA, wallB] = pick(WALLS);
  const iris = pick(['#4a2c1a', '#3a2414', '#2e5a7a', '#4f6b3a', '#5c3b1e']);
  const cx = 320 + pose.dx + (rnd() - 0.5) * 20;
  const cy = 350 + pose.dy + (rnd() - 0.5) * 20;
  const rx = 138 + rnd() * 18;
  const ry = 182 + rnd() * 18;
  const turn = pose.turn; // pixels the features move sideways when the head turns
  const eyeY = cy - 18;
  const eyeDx = 58;
  const frameX = 40 + rnd() * 60;
  const shelfY = 120 + rnd() * 60;
  const strands = [];
  for (let i = 0; i < 70; i++) {
    const x0 = cx - rx * 0.8 + rnd() * rx * 1.6;
    const y0 = cy - ry + 5 + rnd() * 30;
    const x1 = x0 + (rnd() - 0.5) * 90;
    const y1 = y0 + 30 + rnd() * 60;
    strands.push(
      `<path d="M${x0.toFixed(1)} ${y0.toFixed(1)} Q ${(x0 + (rnd() - 0.5) * 60).toFixed(1)} ${((y0 + y1) / 2).toFixed(1)} ${x1.toFixed(1)} ${y1.toFixed(1)}" stroke="${rnd() < 0.5 ? '#000' : '#fff'}" stroke-opacity="${(0.08 + rnd() * 0.12).toFixed(2)}" stroke-width="${(1 + rnd() * 2).toFixed(1)}" fill="none"/>`,
    );
  }
  const books = [];
  let bx = 400 + rnd() * 40;
  while (bx < 640) {
    const w = 14 + rnd() * 18;
    const h = 60 + rnd() * 30;
    books.push(
      `<rect x="${bx.toFixed(1)}" y="${(shelfY - h).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${hex([60 + rnd() * 150, 50 + rnd() * 120, 40 + rnd() * 120])}"/>`,
    );
    bx += w + 2;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 640 800">
  <defs>
    <linearGradient id="wall" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${wallA}"/><stop offset="1" stop-color="${wallB}"/></linearGradient>
    <radialGradient id="skin" cx="0.45" cy="0.4" r="0.75"><stop offset="0" stop-color="${hex(shade(skin, 1.08))}"/><stop offset="0.6" stop-color="${hex(skin)}"/><stop offset="1" stop-color="${hex(shade(skin, 0.72))}"/></radialGradient>
    <linearGradient id="neck" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${hex(shade(skin, 0.7))}"/><stop offset="1" stop-color="${hex(shade(skin, 0.9))}"/></linearGradient>
    <linearGradient id="shirt" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="${shirt}" stop-opacity="0.75"/><stop offset="0.5" stop-color="${shirt}"/><stop offset="1" stop-color="${shirt}" stop-opacity="0.8"/></linearGradient>
    <radialGradient id="blush" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#d9534f" stop-opacity="0.18"/><stop offset="1" stop-color="#d9534f" stop-opacity="0"/></radialGradient>
    <radialGradient id="light" cx="0.2" cy="0.15" r="0.9"><stop offset="0" stop-color="#fff" stop-opacity="0.22"/><stop offset="1" stop-color="#000" stop-opacity="0.18"/></radialGradient>
  </defs>
  <rect width="640" height="800" fill="url(#wall)"/>
  <rect x="${frameX.toFixed(1)}" y="90" width="150" height="190" fill="#f4efe6" stroke="#5b4636" stroke-width="10"/>
  <rect x="${(frameX + 25).toFixed(1)}" y="115" width="100" height="140" fill="${hex([90 + rnd() * 80, 120 + rnd() * 60, 140 + rnd() * 60])}"/>
  <rect x="390" y="${shelfY.toFixed(1)}" width="260" height="12" fill="#6d4c33"/>
  ${books.join('')}
  <path d="M${cx - 250} 800 C ${cx - 240} 640, ${cx - 120} 600, ${cx} 600 C ${cx + 120} 600, ${cx + 240} 640, ${cx + 250} 800 Z" fill="url(#shirt)"/>
  <rect x="${cx - 52}" y="${cy + ry - 60}" width="104" height="110" rx="30" fill="url(#neck)"/>
  <path d="M${cx - 55} ${cy + ry + 40} L ${cx} ${cy + ry + 95} L ${cx + 55} ${cy + ry + 40}" stroke="${hex(shade(skin, 0.65))}" stroke-width="6" fill="none"/>
  <g transform="rotate(${pose.tilt} ${cx} ${cy})">
    <path d="M${cx - rx - 14} ${cy + 10} C ${cx - rx - 40} ${cy - ry * 1.4 - 40}, ${cx + rx + 40} ${cy - ry * 1.4 - 40}, ${cx + rx + 14} ${cy + 10} L ${cx + rx + 22} ${cy + 90} L ${cx - rx - 22} ${cy + 90} Z" fill="${hair}"/>
    <ellipse cx="${cx - rx + 4 + turn * 0.3}" cy="${cy + 10}" rx="22" ry="40" fill="${hex(shade(skin, 0.85))}"/>
    <ellipse cx="${cx + rx - 4 + turn * 0.3}" cy="${cy + 10}" rx="22" ry="40" fill="${hex(shade(skin, 0.85))}"/>
    <ellipse cx="${cx}" cy="${cy}" rx="${rx}" ry="${ry}" fill="url(#skin)"/>
    <path d="M${cx - rx + 2} ${cy - 40} C ${cx - rx + 20} ${cy - ry - 10}, ${cx + rx - 20} ${cy - ry - 10}, ${cx + rx - 2} ${cy - 40} C ${cx + 40} ${cy - ry + 50}, ${cx - 60} ${cy - ry + 40}, ${cx - rx + 2} ${cy - 40} Z" fill="${hair}"/>
    ${strands.join('')}
    <ellipse cx="${cx - 70 + turn}" cy="${cy + 55}" rx="40" ry="28" fill="url(#blush)"/>
    <ellipse cx="${cx + 70 + turn}" cy="${cy + 55}" rx="40" ry="28" fill="url(#blush)"/>
    <path d="M${cx - eyeDx - 34 + turn} ${eyeY - 34} Q ${cx - eyeDx + turn} ${eyeY - 50} ${cx - eyeDx + 32 + turn} ${eyeY - 36}" stroke="${hair}" stroke-width="9" stroke-linecap="round" fill="none"/>
    <path d="M${cx + eyeDx - 32 + turn} ${eyeY - 36} Q ${cx + eyeDx + turn} ${eyeY - 50} ${cx + eyeDx + 34 + turn} ${eyeY - 34}" stroke="${hair}" stroke-width="9" stroke-linecap="round" fill="none"/>
    ${[-1, 1]
      .map(
        (
          s,
        ) => `<ellipse cx="${cx + s * eyeDx + turn}" cy="${eyeY}" rx="27" ry="13" fill="#f3eee8" stroke="${hex(shade(skin, 0.55))}" stroke-width="2.5"/>
    <circle cx="${cx + s * eyeDx + turn * 1.15}" cy="${eyeY}" r="11" fill="${iris}"/>
    <circle cx="${cx + s * eyeDx + turn * 1.15}" cy="${eyeY}" r="5" fill="#0b0b0b"/>
    <circle cx="${cx + s * eyeDx + turn * 1.15 + 3}" cy="${eyeY - 4}" r="2.5" fill="#fff"/>
    <path d="M${cx + s * eyeDx - 28 + turn} ${eyeY - 2} Q ${cx + s * eyeDx + turn} ${eyeY - 20} ${cx + s * eyeDx + 28 + turn} ${eyeY - 2}" stroke="#2a1a12" stroke-width="3" fill="none"/>`,
      )
      .join('\n')}
    <path d="M${cx - 4 + turn} ${eyeY + 10} Q ${cx - 16 + turn * 1.3} ${cy + 50} ${cx - 22 + turn * 1.3} ${cy + 62} Q ${cx + turn * 1.3} ${cy + 74} ${cx + 22 + turn * 1.3} ${cy + 62}" stroke="${hex(shade(skin, 0.62))}" stroke-width="4" fill="none" stroke-linecap="round"/>
    <ellipse cx="${cx - 11 + turn * 1.3}" cy="${cy + 66}" rx="6" ry="3.5" fill="${hex(shade(skin, 0.45))}"/>
    <ellipse cx="${cx + 11 + turn * 1.3}" cy="${cy + 66}" rx="6" ry="3.5" fill="${hex(shade(skin, 0.45))}"/>
    <path d="M${cx - 48 + turn} ${cy + 108} Q ${cx + turn} ${cy + 142} ${cx + 48 + turn} ${cy + 108} Q ${cx + turn} ${cy + 124} ${cx - 48 + turn} ${cy + 108} Z" fill="${hex([Math.min(255, skin[0] * 0.85 + 40), skin[1] * 0.55, skin[2] * 0.55])}" stroke="${hex(shade(skin, 0.45))}" stroke-width="2"/>
    <path d="M${cx - 40 + turn} ${cy + 111} Q ${cx + turn} ${cy + 128} ${cx + 40 + turn} ${cy + 111}" stroke="#f6f1ea" stroke-width="5" fill="none"/>
  </g>
  <rect width="640" height="800" fill="url(#light)"/>
</svg>`;
}

/**
 * Renders an SVG and gives it photographic texture: blotchy low-frequency variation (skin, uneven
 * light), per-pixel sensor noise, then a slight lens blur. Returns raw 8-bit RGB.
 */
export async function renderPhoto(svg, seed, { noise = 5, blotch = 7, lensBlur = 0.6 } = {}) {
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const rnd = seededRandom(seed * 7919 + 17);
  // Value noise on a coarse grid, bilinearly interpolated.
  const cell = 24;
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = (rnd() - 0.5) * 2;
  const gauss = () => {
    // Irwin–Hall approximation of a standard normal: cheap and deterministic.
    return rnd() + rnd() + rnd() + rnd() - 2;
  };
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const a = grid[y0 * gw + x0] * (1 - fx) + grid[y0 * gw + x0 + 1] * fx;
      const b = grid[(y0 + 1) * gw + x0] * (1 - fx) + grid[(y0 + 1) * gw + x0 + 1] * fx;
      const low = (a * (1 - fy) + b * fy) * blotch;
      const grain = gauss() * noise * 1.7;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const chroma = gauss() * noise * 0.5;
        data[i + c] = Math.max(0, Math.min(255, Math.round(data[i + c] + low + grain + chroma)));
      }
    }
  }
  let img = sharp(data, { raw: { width, height, channels: 3 } });
  if (lensBlur > 0.3) img = img.blur(lensBlur);
  return { data: await img.raw().toBuffer(), width, height };
}

/** A realistic synthetic selfie as a baseline JPEG (quality 88, no metadata). */
export async function makeSelfieJpeg({ seed, width = 640, height = 800, pose, quality = 88 }) {
  const photo = await renderPhoto(faceSvg({ seed, width, height, pose }), seed);
  return sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } })
    .jpeg({ quality, mozjpeg: false })
    .toBuffer();
}

/** A PNG whose header claims width×height pixels (1-bit greyscale), compressing to almost nothing. */
function pixelBombPng(width, height) {
  const crcTable = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc32 = (buf) => {
    let c = -1;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (type, body) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([len, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(width / 8);
  // All-zero scanlines (filter 0, black pixels): 30000×30000 is 112 MB raw, ~110 KB deflated.
  const raw = Buffer.alloc(rowBytes * height);
  const idat = deflateSync(raw, { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 24-bit uncompressed BMP (a real image format that sharp cannot read). */
function bmp(data, width, height) {
  const rowSize = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + rowSize * height);
  out.write('BM', 0, 'ascii');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(rowSize * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowSize;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      out[row + x * 3] = data[i + 2];
      out[row + x * 3 + 1] = data[i + 1];
      out[row + x * 3 + 2] = data[i];
    }
  }
  return out;
}

const MINIMAL_PDF = `%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 250] /Contents 4 0 R >> endobj
4 0 obj << /Length 44 >> stream
0.8 0.6 0.5 rg 40 50 120 150 re f
endstream endobj
xref
0 5
0000000000 65535 f 
0000000009 00000 n 
0000000058 00000 n 
0000000115 00000 n 
0000000202 00000 n 
trailer << /Size 5 /Root 1 0 R >>
startxref
295
%%EOF
`;

const SAVED_LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<p>Your session has expired. Please sign in again to download selfie_0042.jpg.</p>
<form method="post" action="/login"><input name="user"><input name="password" type="password"></form>
</body>
</html>
`;

// ---- Real faces (fixtures/faces/ and the photos of fixtures/selfies/) ----------------------------
// The face detector needs real faces: drawn ones are not a fair test. They come from Debian
// bookworm packages, fetched with `apt-get download` (pinned versions) and unpacked with
// `dpkg -x`, never installed. Sources and licences: fixtures/README.md.

/** Debian bookworm packages the real photos come from, pinned so that the fixtures are reproducible. */
export const FACE_PACKAGES = {
  'python-matplotlib-data': '3.6.3-1',
  'python3-skimage': '0.19.3-8',
  'libdlib19.1': '19.24+dfsg-1',
  'opencv-doc': '4.6.0+dfsg-12',
  'python3-sklearn': '1.2.1+dfsg-1',
};

/** The source photos, by package and path inside the package. */
const FACE_SOURCES = {
  graceHopper: ['python-matplotlib-data', 'usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg'],
  astronaut: ['python3-skimage', 'usr/lib/python3/dist-packages/skimage/data/astronaut.png'],
  camera: ['python3-skimage', 'usr/lib/python3/dist-packages/skimage/data/camera.png'],
  chelsea: ['python3-skimage', 'usr/lib/python3/dist-packages/skimage/data/chelsea.png'],
  page: ['python3-skimage', 'usr/lib/python3/dist-packages/skimage/data/page.png'],
  text: ['python3-skimage', 'usr/lib/python3/dist-packages/skimage/data/text.png'],
  baldGuys: ['libdlib19.1', 'usr/share/doc/libdlib19.1/examples/faces/bald_guys.jpg'],
  threeMen: ['libdlib19.1', 'usr/share/doc/libdlib19.1/examples/faces/2008_002506.jpg'],
  johnSalley: ['libdlib19.1', 'usr/share/doc/libdlib19.1/examples/johns/John_Salley/000190_02159501.jpg'],
  baboon: ['opencv-doc', 'usr/share/doc/opencv-doc/examples/data/baboon.jpg'],
  china: ['python3-sklearn', 'usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg'],
};

/**
 * Unpacks FACE_PACKAGES into `cacheDir` (downloading the .deb files with apt-get when they are
 * not there yet) and returns the absolute path of each source photo.
 */
export async function faceSources(cacheDir) {
  await mkdir(cacheDir, { recursive: true });
  const dirs = {};
  for (const [pkg, version] of Object.entries(FACE_PACKAGES)) {
    const debName = () => readdirSync(cacheDir).find((f) => f.startsWith(`${pkg}_${version}_`) && f.endsWith('.deb'));
    if (!debName()) {
      console.error(`downloading ${pkg}=${version} into ${cacheDir}`);
      try {
        execFileSync('apt-get', ['download', `${pkg}=${version}`], {
          cwd: cacheDir,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      } catch (error) {
        const missing = error.code === 'ENOENT';
        throw new Error(
          missing
            ? `apt-get is not available: the real-face fixtures come from Debian bookworm packages. Put ${pkg}_${version}_*.deb in ${cacheDir} (or set SMILE_FIXTURE_SOURCES to a directory holding the .deb files of ${Object.keys(FACE_PACKAGES).join(', ')}), then run this again.`
            : `apt-get download ${pkg}=${version} failed: is a Debian bookworm source list configured (apt-get update)? Or put the .deb in ${cacheDir}.`,
          { cause: error },
        );
      }
    }
    const deb = debName();
    if (!deb) throw new Error(`apt-get download ${pkg}=${version} wrote no .deb into ${cacheDir}`);
    const dir = join(cacheDir, 'x', deb.replace(/\.deb$/, ''));
    if (!existsSync(join(dir, '.unpacked'))) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      execFileSync('dpkg', ['-x', join(cacheDir, deb), dir], { stdio: 'inherit' });
      await writeFile(join(dir, '.unpacked'), '');
    }
    dirs[pkg] = dir;
  }
  const paths = {};
  for (const [name, [pkg, path]] of Object.entries(FACE_SOURCES)) paths[name] = join(dirs[pkg], path);
  return paths;
}

/** Where the .deb files are kept between runs. */
export function faceSourceCache() {
  return process.env.SMILE_FIXTURE_SOURCES || join(homedir(), '.cache', 'smile-fixture-sources');
}

/** Decodes a source photo to 8-bit sRGB without alpha (greyscale sources become 3 channels). */
function sourceImage(path) {
  return sharp(path).toColourspace('srgb').removeAlpha();
}

/** Raw RGB of `path` cut to `crop` ({ left, top, width, height } in source pixels) and scaled to width×height. */
async function cropTo(path, crop, width, height, { flip = false } = {}) {
  let img = sourceImage(path).extract(crop);
  if (flip) img = img.flop();
  const data = await img.resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  return { data, width, height };
}

/**
 * Puts a photo (raw RGB) at `left`,`top` on a width×height canvas whose background is the same photo
 * blown up and heavily blurred (like a portrait-mode background), so that the frame is a plausible
 * photo rather than a flat colour. `feather` fades the photo's edges into the background (px).
 */
async function onBlurredBackground(photo, width, height, left, top, { feather = 0, backgroundFrom = photo } = {}) {
  const background = await sharp(backgroundFrom.data, {
    raw: { width: backgroundFrom.width, height: backgroundFrom.height, channels: 3 },
  })
    .resize(width, height, { fit: 'cover' })
    .blur(24)
    .raw()
    .toBuffer();
  let input = await sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } })
    .png()
    .toBuffer();
  if (feather > 0) {
    const mask = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${photo.width}" height="${photo.height}"><ellipse cx="${photo.width / 2}" cy="${photo.height / 2}" rx="${photo.width / 2 - feather}" ry="${photo.height / 2 - feather}" fill="#fff"/></svg>`,
    );
    const alpha = await sharp(mask)
      .blur(feather / 2)
      .extractChannel('alpha')
      .raw()
      .toBuffer();
    input = await sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } })
      .joinChannel(alpha, { raw: { width: photo.width, height: photo.height, channels: 1 } })
      .png()
      .toBuffer();
  }
  const data = await sharp(background, { raw: { width, height, channels: 3 } })
    .composite([{ input, left, top }])
    .removeAlpha()
    .raw()
    .toBuffer();
  return { data, width, height };
}

/** Adds seeded sensor-like noise (and optional colour tint) to raw RGB, in place; returns it. */
function addGrain(photo, seed, amount, tint = [1, 1, 1]) {
  const rnd = seededRandom(seed);
  const { data } = photo;
  for (let i = 0; i < data.length; i += 3) {
    const g = (rnd() + rnd() + rnd() + rnd() - 2) * amount;
    for (let c = 0; c < 3; c++) data[i + c] = Math.max(0, Math.min(255, Math.round(data[i + c] * tint[c] + g)));
  }
  return photo;
}

/** A plain painted wall: warm off-white paint with roller texture, a soft light fall-off and sensor noise. */
async function paintedWall(seed, width, height) {
  const rnd = seededRandom(seed);
  const data = Buffer.alloc(width * height * 3);
  const cell = 6;
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => rnd() - 0.5);
  const base = [214, 203, 184];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const gy = y / cell;
      const x0 = Math.floor(gx);
      const y0 = Math.floor(gy);
      const fx = gx - x0;
      const fy = gy - y0;
      const a = grid[y0 * gw + x0] * (1 - fx) + grid[y0 * gw + x0 + 1] * fx;
      const b = grid[(y0 + 1) * gw + x0] * (1 - fx) + grid[(y0 + 1) * gw + x0 + 1] * fx;
      const stipple = (a * (1 - fy) + b * fy) * 26;
      const light = 1.06 - 0.22 * Math.hypot(x / width - 0.3, y / height - 0.2);
      const grain = (rnd() + rnd() + rnd() + rnd() - 2) * 7;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++)
        data[i + c] = Math.max(0, Math.min(255, Math.round(base[c] * light + stipple + grain)));
    }
  }
  return { data, width, height };
}

/** Baseline JPEG, quality 85, no metadata (sharp writes none unless asked). */
function faceJpeg(photo, opts = {}) {
  return sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } })
    .jpeg({ quality: 85, mozjpeg: false, ...opts })
    .toBuffer();
}

/** Crops (in source pixels) that the faces/ and selfies/ photos are cut from; tuned with scripts/face-survey.mjs. */
const CROPS = {
  graceHopper: { left: 16, top: 0, width: 480, height: 600 },
  astronaut: { left: 110, top: 20, width: 240, height: 300 },
  dwayneJohnson: { left: 1251, top: 0, width: 517, height: 645 },
  brownMan: { left: 185, top: 30, width: 170, height: 213 },
  groupPhoto: { left: 0, top: 0, width: 500, height: 375 },
  cat: { left: 100, top: 10, width: 232, height: 290 },
  mandrill: { left: 51, top: 0, width: 410, height: 512 },
  temple: { left: 140, top: 0, width: 341, height: 427 },
  cameraman: { left: 150, top: 60, width: 180, height: 225 },
};

/**
 * A 150×150 face chip (LFW-style, the head cut at the top) enlarged to `size`, its edges faded over
 * `feather` px, on a plain studio-grey backdrop with a soft light fall-off and grain: a portrait with
 * room around the head.
 */
async function onPlainBackdrop(path, size, feather) {
  const backdrop = { data: Buffer.alloc(640 * 800 * 3), width: 640, height: 800 };
  for (let y = 0; y < 800; y++)
    for (let x = 0; x < 640; x++) {
      const light = 1.05 - 0.25 * Math.hypot(x / 640 - 0.5, y / 800 - 0.3);
      backdrop.data.set(
        [150, 158, 166].map((v) => Math.round(v * light)),
        (y * 640 + x) * 3,
      );
    }
  addGrain(backdrop, 12, 3);
  const mask = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect x="${feather}" y="${feather}" width="${size - 2 * feather}" height="${size - 2 * feather}" rx="${feather * 3}" fill="#fff"/></svg>`,
  );
  const alpha = await sharp(mask)
    .blur(feather / 2)
    .extractChannel('alpha')
    .raw()
    .toBuffer();
  const chip = await sourceImage(path)
    .resize(size, size, { kernel: 'lanczos3' })
    .joinChannel(alpha, { raw: { width: size, height: size, channels: 1 } })
    .png()
    .toBuffer();
  const data = await sharp(backdrop.data, { raw: { width: 640, height: 800, channels: 3 } })
    .composite([{ input: chip, left: (640 - size) / 2, top: 200 }])
    .removeAlpha()
    .raw()
    .toBuffer();
  return { data, width: 640, height: 800 };
}

/** The real face photos every other face fixture is made from, as raw RGB. */
async function realPortraits(src) {
  return {
    graceHopper: await cropTo(src.graceHopper, CROPS.graceHopper, 640, 800),
    astronaut: await cropTo(src.astronaut, CROPS.astronaut, 640, 800),
    dwayneJohnson: await cropTo(src.baldGuys, CROPS.dwayneJohnson, 640, 800),
    brownMan: await cropTo(src.threeMen, CROPS.brownMan, 640, 800),
    johnSalley: await onPlainBackdrop(src.johnSalley, 400, 20),
  };
}

/** Writes fixtures/faces/; returns the written paths relative to the repo root. */
export async function makeFaceFixtures(root, src) {
  const dir = join(root, 'fixtures', 'faces');
  await mkdir(dir, { recursive: true });
  const written = [];
  const put = async (name, photo, opts) => {
    await writeFile(join(dir, name), await faceJpeg(photo, opts));
    written.push(`fixtures/faces/${name}`);
  };
  const people = await realPortraits(src);

  // ---- one face, meant to pass: several skin tones ----
  await put('one-face-grace-hopper.jpg', people.graceHopper);
  await put('one-face-astronaut.jpg', people.astronaut);
  await put('one-face-john-salley.jpg', people.johnSalley);
  await put('one-face-dwayne-johnson.jpg', people.dwayneJohnson);
  await put('one-face-brown-man.jpg', people.brownMan);

  // ---- no face, or more than one: errors ----
  await put('blank-wall.jpg', await paintedWall(5, 640, 800));
  await put('building.jpg', await cropTo(src.china, CROPS.temple, 640, 800));
  await put('cat.jpg', await cropTo(src.chelsea, CROPS.cat, 640, 800));
  await put('mandrill.jpg', await cropTo(src.baboon, CROPS.mandrill, 640, 800), { quality: 78 });
  {
    // A printed page: skimage's photographed page and its text samples, printed on warm paper.
    const paper = [242, 232, 212];
    const data = Buffer.alloc(640 * 800 * 3);
    for (let i = 0; i < data.length; i += 3) data.set(paper, i);
    let top = 30;
    for (const [path, w] of [
      [src.page, 600],
      [src.text, 600],
      [src.page, 600],
    ]) {
      const ink = await sharp(path).greyscale().resize(w).raw().toBuffer({ resolveWithObject: true });
      const { width, height } = ink.info;
      for (let y = 0; y < height && top + y < 800; y++)
        for (let x = 0; x < width; x++) {
          const v = ink.data[y * width + x] / 255;
          const o = ((top + y) * 640 + 20 + x) * 3;
          for (let c = 0; c < 3; c++) data[o + c] = Math.round(paper[c] * v);
        }
      top += height + 20;
    }
    await put('text-page.jpg', addGrain({ data, width: 640, height: 800 }, 8, 3));
  }
  {
    const group = await cropTo(src.threeMen, CROPS.groupPhoto, 800, 600);
    await put('group-photo.jpg', group);
  }
  {
    // Two portraits side by side, as when two people share the frame.
    const left = await cropTo(src.graceHopper, { left: 56, top: 20, width: 400, height: 500 }, 400, 500);
    const right = await cropTo(src.baldGuys, CROPS.dwayneJohnson, 400, 500);
    const raw = { raw: { width: 400, height: 500, channels: 3 } };
    const data = await sharp({ create: { width: 800, height: 500, channels: 3, background: '#808080' } })
      .composite([
        { input: left.data, ...raw, left: 0, top: 0 },
        { input: right.data, ...raw, left: 400, top: 0 },
      ])
      .removeAlpha()
      .raw()
      .toBuffer();
    await put('two-faces.jpg', { data, width: 800, height: 500 });
  }

  // ---- one face, with a warning ----
  // The whole astronaut photo: the face is a small part of it.
  await put('face-too-small.jpg', await cropTo(src.astronaut, { left: 51, top: 0, width: 410, height: 512 }, 640, 800));
  {
    const small = await cropTo(src.graceHopper, CROPS.graceHopper, 300, 375);
    await put(
      'face-off-centre.jpg',
      await onBlurredBackground(small, 640, 800, 420, 60, { backgroundFrom: people.graceHopper }),
    );
  }
  // Grace Hopper with the left third of her face outside the frame.
  await put(
    'face-cut-off.jpg',
    await cropTo(src.graceHopper, { left: 200, top: 40, width: 312, height: 390 }, 640, 800),
  );
  {
    // Pixels turned 90° (no EXIF orientation): a photo stored on its side.
    const turned = await sharp(people.graceHopper.data, { raw: { width: 640, height: 800, channels: 3 } })
      .rotate(90)
      .raw()
      .toBuffer();
    await put('face-rotated-90.jpg', { data: turned, width: 800, height: 640 });
  }
  // skimage's cameraman looks down at his camera, head turned; the photo is greyscale, toned sepia.
  await put('face-turned.jpg', addGrain(await cropTo(src.camera, CROPS.cameraman, 640, 800), 9, 0, [1.08, 1.0, 0.86]));
  return written;
}

/** Writes every fixture; returns the list of written paths relative to the repo root. */
export async function makeFixtures(root) {
  const selfies = join(root, 'fixtures', 'selfies');
  const bad = join(root, 'fixtures', 'bad');
  // Files are overwritten, never deleted: other fixtures may live next to these. A renamed or
  // removed fixture of fixtures/bad/ is caught by test/unit/selfie/fixtures.test.ts.
  await mkdir(selfies, { recursive: true });
  await mkdir(bad, { recursive: true });
  const written = [];
  const put = async (dir, name, buf) => {
    await writeFile(join(dir, name), buf);
    written.push(join(dir === selfies ? 'fixtures/selfies' : 'fixtures/bad', name));
  };
  const jpeg = (photo, opts = {}) =>
    sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } }).jpeg({
      quality: 88,
      mozjpeg: false,
      ...opts,
    });
  const fromRaw = (photo) => sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } });

  // ---- good: real faces (see fixtures/README.md) ----
  const src = await faceSources(faceSourceCache());
  const people = await realPortraits(src);
  // The quick-start image: Grace Hopper (US Navy photo, public domain), a baseline JPEG exactly as
  // smile sends it (640×800, sRGB, no metadata), so it travels byte for byte.
  await put(selfies, 'demo.jpg', await jpeg(people.graceHopper).toBuffer());
  await put(
    selfies,
    'selfie-960x1200.jpg',
    await jpeg(await cropTo(src.astronaut, CROPS.astronaut, 960, 1200)).toBuffer(),
  );
  await put(selfies, 'selfie-progressive.jpg', await jpeg(people.johnSalley, { progressive: true }).toBuffer());
  // A phone-like JPEG with EXIF (camera, GPS) and XMP: good, but the metadata must not be sent.
  await put(
    selfies,
    'selfie-with-exif.jpg',
    await jpeg(people.dwayneJohnson)
      .withExif({
        IFD0: { Make: 'Smilephone', Model: 'SP-1', Software: 'make-fixtures', Orientation: '1' },
        IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '1/1 17/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '36/1 49/1 0/1' },
      })
      .withXmp(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>make-fixtures</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>',
      )
      .toBuffer(),
  );
  // Liveness frames: the same photo cut a little to the left, centred and to the right, as when the
  // head moves between frames, at 360×450.
  for (const [i, dx] of [-16, 0, 16].entries()) {
    const crop = { ...CROPS.graceHopper, left: CROPS.graceHopper.left + dx };
    await put(selfies, `liveness-${i + 1}.jpg`, await jpeg(await cropTo(src.graceHopper, crop, 360, 450)).toBuffer());
  }

  // The drawn portraits the bad and odd files below are made from: what makes them bad is the file,
  // not the face, and they stay as they were (exif-rotated.jpg, compared with demo.jpg by the
  // tests, is made from the real demo photo).
  const demo = await renderPhoto(faceSvg({ seed: 4 }), 4);
  const demoJpeg = await jpeg(demo).toBuffer();
  const third = await renderPhoto(faceSvg({ seed: 23 }), 23);

  // ---- bad or odd ----
  await put(bad, 'zero-bytes.jpg', Buffer.alloc(0));
  await put(bad, 'truncated.jpg', demoJpeg.subarray(0, Math.floor(demoJpeg.length * 0.55)));
  {
    // Overwrite 256 entropy-coded bytes in the middle of the scan with seeded garbage. (A few
    // garbage bytes without a stray marker decode silently into wrong pixels: no decoder notices.)
    const corrupt = Buffer.from(demoJpeg);
    const rnd = seededRandom(99);
    const start = Math.floor(corrupt.length * 0.45);
    for (let i = 0; i < 256; i++) corrupt[start + i] = Math.floor(rnd() * 256);
    await put(bad, 'corrupt-entropy.jpg', corrupt);
  }
  {
    const png = await fromRaw(demo).resize(320, 400).png({ compressionLevel: 9 }).toBuffer();
    await put(bad, 'truncated.png', png.subarray(0, Math.floor(png.length * 0.5)));
  }
  await put(bad, 'text-renamed.jpg', Buffer.from('selfie of user 0042 — see attachment\n'.repeat(20)));
  await put(bad, 'document.pdf', Buffer.from(MINIMAL_PDF));
  await put(bad, 'login-page-saved-as.jpg', Buffer.from(SAVED_LOGIN_PAGE));
  {
    const frames = [];
    for (const pose of [
      { dx: -6, dy: 0, tilt: -2, turn: -8 },
      { dx: 0, dy: 0, tilt: 0, turn: 0 },
      { dx: 6, dy: 0, tilt: 2, turn: 8 },
    ]) {
      frames.push(
        await sharp(Buffer.from(faceSvg({ seed: 4, width: 320, height: 400, pose })))
          .removeAlpha()
          .raw()
          .toBuffer(),
      );
    }
    const stacked = Buffer.concat(frames);
    await put(
      bad,
      'animated.gif',
      await sharp(stacked, { raw: { width: 320, height: 1200, channels: 3, pageHeight: 400 } })
        .gif({ loop: 0, delay: [300, 300, 300] })
        .toBuffer(),
    );
    await put(
      bad,
      'animated.webp',
      await sharp(stacked, { raw: { width: 320, height: 1200, channels: 3, pageHeight: 400 } })
        .webp({ loop: 0, delay: [300, 300, 300], quality: 80 })
        .toBuffer(),
    );
    await put(
      bad,
      'multi-page.tiff',
      await sharp(stacked, { raw: { width: 320, height: 1200, channels: 3, pageHeight: 400 } })
        .tiff({ compression: 'jpeg', quality: 80 })
        .toBuffer(),
    );
  }
  await put(bad, 'pixel-bomb.png', pixelBombPng(30000, 30000));
  await put(bad, 'cmyk.jpg', await fromRaw(demo).toColourspace('cmyk').jpeg({ quality: 88 }).toBuffer());
  await put(bad, 'display-p3.jpg', await jpeg(third).withIccProfile('p3').toBuffer());
  {
    // 16 bits per channel from a smooth render (no noise) keeps the file small.
    const smooth = await sharp(Buffer.from(faceSvg({ seed: 4 })))
      .removeAlpha()
      .toColourspace('rgb16')
      .png({ compressionLevel: 9 })
      .toBuffer();
    await put(bad, '16-bit.png', smooth);
  }
  {
    // A cut-out: the face is opaque, the background fully transparent.
    const mask = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="800"><ellipse cx="320" cy="420" rx="230" ry="330" fill="#fff"/></svg>`,
    );
    const alphaMask = await sharp(mask).extractChannel('alpha').raw().toBuffer();
    await put(
      bad,
      'alpha.png',
      await fromRaw(demo)
        .joinChannel(alphaMask, { raw: { width: 640, height: 800, channels: 1 } })
        .png({ compressionLevel: 9, palette: true })
        .toBuffer(),
    );
  }
  // Stored sideways with EXIF orientation 6 ("rotate 90° clockwise to display"): displays upright.
  await put(
    bad,
    'exif-rotated.jpg',
    await fromRaw(people.graceHopper).rotate(-90).jpeg({ quality: 88 }).withMetadata({ orientation: 6 }).toBuffer(),
  );
  await put(bad, 'tiny.jpg', await fromRaw(demo).resize(120, 150).jpeg({ quality: 88 }).toBuffer());
  await put(
    bad,
    'sliver.png',
    await fromRaw(demo).extract({ left: 0, top: 380, width: 640, height: 40 }).png().toBuffer(),
  );
  await put(bad, 'low-resolution.jpg', await fromRaw(demo).resize(384, 480).jpeg({ quality: 88 }).toBuffer());
  // Exposure: scale linear light (gamma 2.2) so that the result looks like under/over exposure.
  const exposed = (photo, ev) => {
    const gain = 2 ** ev;
    const lut = new Uint8Array(256).map((_, v) => Math.round(255 * Math.min(1, (v / 255) ** 2.2 * gain) ** (1 / 2.2)));
    return { ...photo, data: Buffer.from(photo.data.map((v) => lut[v])) };
  };
  await put(bad, 'very-dark.jpg', await jpeg(exposed(demo, -4)).toBuffer());
  await put(bad, 'very-bright.jpg', await jpeg(exposed(demo, 3)).toBuffer());
  await put(bad, 'blurred.jpg', await fromRaw(demo).blur(5).jpeg({ quality: 88 }).toBuffer());
  await put(
    bad,
    'greyscale.jpg',
    await fromRaw(demo).greyscale().toColourspace('b-w').jpeg({ quality: 88 }).toBuffer(),
  );
  await put(bad, 'selfie.webp', await fromRaw(demo).webp({ quality: 85 }).toBuffer());
  await put(bad, 'selfie.avif', await fromRaw(demo).avif({ quality: 60, effort: 2 }).toBuffer());
  await put(bad, 'selfie.tiff', await fromRaw(demo).resize(320, 400).tiff({ compression: 'lzw' }).toBuffer());
  await put(bad, 'single-frame.gif', await fromRaw(demo).resize(480, 600).gif().toBuffer());
  await put(bad, 'drawing.svg', Buffer.from(faceSvg({ seed: 4 })));
  await put(bad, 'jpeg-named.heic', demoJpeg);
  {
    // The first bytes of an iPhone HEIC (ftyp box with brand "heic"), then nothing decodable.
    const ftyp = Buffer.from('000000186674797068656963000000006d69663168656963', 'hex');
    const rnd = seededRandom(7);
    await put(
      bad,
      'iphone-photo.heic',
      Buffer.concat([ftyp, Buffer.from(Array.from({ length: 4000 }, () => Math.floor(rnd() * 256)))]),
    );
  }
  {
    const small = await fromRaw(demo).resize(160, 200).raw().toBuffer();
    await put(bad, 'bitmap.bmp', bmp(small, 160, 200));
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const written = await makeFixtures(root);
  written.push(...(await makeFaceFixtures(root, await faceSources(faceSourceCache()))));
  console.log(`wrote ${written.length} fixtures:\n  ${written.join('\n  ')}`);
}
