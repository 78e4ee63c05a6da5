// What each selfie finding code means and what to do about it, for `smile explain CODE`. The
// thresholds themselves are in limits.ts (and `smile selfie check --help`); the message printed for
// one photo (rules.ts, face-rules.ts) gives that photo's figures.
import type { FindingCode, Severity } from './rules.js';

export interface FindingInfo {
  code: FindingCode;
  severity: Severity;
  title: string;
  meaning: string;
  hint: string;
}

const RETAKE = 'Retake the photo, or export the original again, and check it with `smile selfie check FILE`.';
const AUTOMATIC = 'Nothing to do unless the result looks wrong: smile fixes this before upload.';

const table: Array<[FindingCode, Severity, string, string, string]> = [
  ['empty_file', 'error', 'Empty file', 'The file has 0 bytes: a failed copy or download.', RETAKE],
  [
    'unreadable',
    'error',
    'File cannot be read',
    'Missing, a directory or device, or no permission.',
    'Check the path and the permissions (bulk: paths are relative to the input file).',
  ],
  ['file_too_large', 'error', 'File too large', 'Over 100 MiB: not read at all.', 'Use a smaller photo.'],
  [
    'not_an_image',
    'error',
    'Not an image',
    'Text, HTML, PDF or unknown bytes (a saved web page, a renamed file).',
    'Pass a JPEG or PNG photo.',
  ],
  [
    'unsupported_format',
    'error',
    'Unsupported format',
    'An image format that cannot be converted here (HEIC, SVG, BMP, JPEG 2000 …).',
    'Export it as JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible).',
  ],
  ['truncated', 'error', 'Truncated file', 'The file ends before the image data does.', RETAKE],
  ['corrupt', 'error', 'Damaged image data', 'The decoder found damaged data.', RETAKE],
  ['animated', 'error', 'Animated image', 'More than one frame (GIF, WebP, AVIF).', 'Use a single still photo.'],
  ['multi_page', 'error', 'Several pages', 'A TIFF with more than one page.', 'Use a file with a single photo.'],
  [
    'too_many_pixels',
    'error',
    'Too many pixels',
    'Over 250 megapixels: refused from its header, before decoding (decompression bombs).',
    'Use a smaller photo.',
  ],
  [
    'too_small',
    'error',
    'Image too small',
    'The shorter side is under 240 px: too few pixels for face matching.',
    'Use a larger photo.',
  ],
  [
    'no_face',
    'error',
    'No human face',
    'No human face was found, upright or turned: a wall, a building, an animal, a document, or a face hidden, far away or in the dark. Smile ID would reject the job (and it would still cost a job).',
    "Use a photo of the person's face, looking at the camera, in good light. If you have looked at the photo and it is right, --skip-face-check sends it anyway.",
  ],
  [
    'multiple_faces',
    'error',
    'More than one face',
    'More than one person: a selfie must show only the person being registered. Small faces far behind (under 3 % of the photo and under a tenth of the main face in area) do not count.',
    'Retake the photo with the person alone, or crop it to their face.',
  ],
  [
    'too_dark',
    'warning',
    'Too dark',
    'Low mean brightness: face matching works less well.',
    'Retake it in better light.',
  ],
  [
    'too_bright',
    'warning',
    'Too bright',
    'High mean brightness: the face is washed out.',
    'Retake it out of direct light.',
  ],
  [
    'blurry',
    'warning',
    'Blurry',
    'Low sharpness (variance of the Laplacian).',
    'Retake it holding the camera still, in focus.',
  ],
  [
    'greyscale',
    'warning',
    'No colour',
    'A greyscale photo; Smile ID expects a colour one.',
    'Use the original colour image.',
  ],
  ['exif_rotated', 'warning', 'Stored rotated', 'The EXIF orientation is applied before upload.', AUTOMATIC],
  [
    'large_file',
    'warning',
    'Large file',
    'Over 5 MiB (Smile ID documents a 5 MB limit per photo): re-encoded smaller before upload.',
    AUTOMATIC,
  ],
  [
    'low_resolution',
    'warning',
    'Low resolution',
    "The long side is under what Smile ID's own SDKs send (640 px; liveness frames 320 px).",
    'Use a larger photo if you have one.',
  ],
  ['transparency', 'warning', 'Transparent pixels', 'They become white before upload.', AUTOMATIC],
  [
    'colour_space',
    'warning',
    'Not sRGB',
    'CMYK or another colour space: converted to sRGB before upload, colours may shift.',
    AUTOMATIC,
  ],
  [
    'extension_mismatch',
    'warning',
    'Wrong file extension',
    'The name says one format, the content is another; the content is what counts.',
    'Rename the file if other tools need the right extension.',
  ],
  [
    'face_too_small',
    'warning',
    'Face too small',
    "The face is under 10 % of the photo's area, the least Smile ID's own selfie screen accepts: fewer pixels of the face for matching.",
    'Crop the photo closer to the face, or retake it closer.',
  ],
  [
    'face_cut_off',
    'warning',
    'Face cut off',
    'Part of the face is outside the photo.',
    'Use a photo that shows the whole face with some space around it.',
  ],
  [
    'face_off_centre',
    'warning',
    'Face off centre',
    "The face's centre is outside the middle of the photo (Smile ID's selfie screen only looks there).",
    'Crop the photo around the face, or retake it with the face centred.',
  ],
  [
    'face_turned',
    'warning',
    'Head turned',
    "The head is turned to the side; Smile ID's selfie screen asks for a face looking straight ahead (within 15°).",
    'Use a photo in which the person looks straight at the camera.',
  ],
  [
    'face_rolled',
    'warning',
    'Head tilted or photo on its side',
    'The head is tilted more than 30°, or the face is upright only when the photo is turned: a photo saved on its side or upside down.',
    'Rotate the photo so the face is upright (or retake it with the head straight) and check it again.',
  ],
  [
    'face_check_skipped',
    'warning',
    'Face check skipped',
    '--skip-face-check was given: nothing made sure the photo shows one face. Recorded in --json (face_check: "skipped") and in bulk reports.',
    'Drop --skip-face-check unless you have looked at the photos.',
  ],
  [
    'face_check_unavailable',
    'warning',
    'Face check unavailable',
    'The face detector (onnxruntime-node) cannot run on this machine, e.g. an operating system or CPU it has no build for; the other checks still apply.',
    'Look at the photo yourself; run `smile doctor` and report the platform if you expected it to work.',
  ],
];

const INFO = new Map<string, FindingInfo>(
  table.map(([code, severity, title, meaning, hint]) => [code, { code, severity, title, meaning, hint }]),
);

/** The selfie finding with this code (`no_face`, `face-turned` …), or undefined. */
export function findFinding(code: string): FindingInfo | undefined {
  return INFO.get(code.trim().toLowerCase().replace(/-/g, '_'));
}

/** Every code, in table order (for tests and completion). */
export function findingCodes(): FindingCode[] {
  return table.map(([code]) => code);
}
