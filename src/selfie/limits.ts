// The selfie limits and thresholds, and the help text that lists them. A leaf: it imports nothing,
// so that inspect.ts (which applies the size limits while reading) and rules.ts (which turns facts
// into findings) both depend on it and not on each other.

// ---- Thresholds -------------------------------------------------------------------------------
// Size limits come from product.md and smile-api.md §4. The picture-quality thresholds were chosen
// by measuring 14 synthetic portraits made by scripts/make-fixtures.mjs (SVG faces in a range of skin
// tones, with skin texture, uneven light and sensor noise, 360×450 to 960×1200, JPEG q88) against
// degraded copies of the same images: exposure −1 … −4 EV and +1 … +3 EV (in linear light),
// Gaussian blur σ 1 … 5 px (at 640×800), greyscale, and saturation cut to 25 % and 10 %. The
// statistics are computed on a copy scaled to a 200 px long side (STATS_SIZE below), so
// they do not depend on the resolution of the file. The measured ranges are in each comment.

/** Shorter side under this is an error (product.md: "too few pixels (shorter side under 240)"). */
export const MIN_SHORT_SIDE = 240;
/**
 * Long side under this is a warning. 640 px is what Smile ID's own mobile SDKs send for a selfie
 * (smile-api.md §4.2); liveness frames are captured at 320 px, so frames get their own limit.
 */
export const MIN_LONG_SIDE = { selfie: 640, liveness: 320 } as const;
/**
 * Long side of the JPEG that is sent (product.md); larger images are scaled down. Liveness frames
 * are sent as Smile ID's mobile SDKs send them, 320 px on the long side: smileidentity/android
 * 4e32f726 lib/src/main/java/com/smileidentity/viewmodel/SelfieViewModel.kt `LIVENESS_IMAGE_SIZE = 320`;
 * smileidentity/ios 8893ea07 EnhancedSmartSelfieViewModel.swift `livenessImageSize = 320`.
 */
export const MAX_LONG_SIDE = { selfie: 1280, liveness: 320 } as const;
/**
 * Images with more pixels are refused from their header, before decoding (decompression bombs:
 * a 30000×30000 PNG of one colour is 100 KB on disk). 250 MP is above the largest phone sensors
 * (200 MP, 16320×12240) and far below such bombs (900 MP).
 */
export const MAX_INPUT_PIXELS = 250_000_000;
/** Files larger than this are not read at all (error): no camera writes a 100 MiB photo. */
export const MAX_FILE_BYTES = 100 * 1024 * 1024;
/** Files larger than this get a warning: Smile ID documents a 5 MB limit per photo (smile-api.md §4.2). */
export const LARGE_FILE_BYTES = 5 * 1024 * 1024;
/**
 * Mean luma (0–255) under this is too dark. Measured: good 134–158, −1 EV 97–115, −2 EV 71–84,
 * −3 EV 52–61, −4 EV 38–45 (fixtures/bad/very-dark.jpg: 38). 48 flags every −4 EV copy and no
 * −3 EV one; real indoor selfies are darker than these renders, so the limit stays low.
 */
export const MIN_MEAN_LUMA = 48;
/**
 * Mean luma over this is too bright. Measured: good 134–158, +1 EV 178–210, +2 EV 208–240,
 * +2.5 EV 217–245, +3 EV 227–249 (fixtures/bad/very-bright.jpg: 228). 215 is above every +1 EV
 * copy and flags washed-out faces from +2.5 EV on.
 */
export const MAX_MEAN_LUMA = 215;
/**
 * Sharpness under this is blurry. Sharpness is the variance of the Laplacian of the luma on the
 * 200 px copy, scaled by (128 / mean luma)² for images darker than mid-grey: under-exposure
 * scales contrast, and so the variance, down (raw variance at −3 EV: 61–132, good: 392–855);
 * scaled, every darkened copy measures 312–688 like the original. Measured (scaled): good
 * 392–855; blur σ 1 px (at 640×800) 307–708, σ 2 168–414, σ 3 88–199, σ 4 46–114, σ 5 27–59
 * (fixtures/bad/blurred.jpg: 42). 100 flags a visibly soft face (σ ≥ 4, and the softest σ 3)
 * and leaves σ ≤ 2 alone. Not reported together with too_dark / too_bright.
 */
export const MIN_LAPLACIAN_VARIANCE = 100;
/**
 * Colourfulness (Hasler–Süsstrunk) under this is greyscale. Measured: good 29–56, saturation
 * cut to 25 % 7–15, to 10 % 3.3–6, greyscale 0 (fixtures/bad/greyscale.jpg: 0). 3 flags only
 * images without colour.
 */
export const MIN_COLOURFULNESS = 3;
/** More than this share of (almost) transparent pixels gets a warning: they become white. */
export const MAX_TRANSPARENT_SHARE = 0.01;
/**
 * Long side of the copy the statistics are computed on. Small enough that the JavaScript pass is
 * cheap (32 k pixels) and that JPEG shrink-on-load does most of the scaling: 640×800, the size
 * Smile ID's mobile SDKs send, shrinks by exactly 1/4 while decoding, with no resampling after.
 */
export const STATS_SIZE = 200;

// ---- Faces ------------------------------------------------------------------------------------
// The detector (faces.ts) reports every face it finds with two scores: back-256's ("score") and
// front-128's on a crop around the face ("confirm"). Measured with scripts/face-survey.mjs on
// photos from Debian packages (fixtures/README.md and the fixtures they make):
//   the main face of 31 photos of one person (skin tones light to dark; old, greyscale, eyes
//     closed, tight crops): score 0.77–0.97, confirm 0.82–0.95; the darkest skin (John Salley,
//     Dwayne Johnson: 13 photos) 0.81–0.97 / 0.89–0.94;
//   61 finds in 16 group photos: score 0.50–0.97, confirm 0.00–0.95;
//   non-human images (mandrill, macaque, gorilla, gibbon, proboscis monkey, cats, dogs, squirrel,
//     buildings, a wall, text, fruit, a painting): most find nothing; the surest finds are a
//     macaque (0.72 / 0.74), a proboscis monkey (0.62 / 0.76) and dogs (≤ 0.58 / ≤ 0.67);
//   drawn faces (the old synthetic fixtures, fixtures/bad/): 0.67–0.78 / 0.85–0.89 — they pass,
//     like a photo of a photo would; telling those from a live person is Smile ID's liveness check.
// So FACE_MIN_CONFIRM sits between the surest animal (0.76) and the least sure person (0.82).

/** back-256 finds below this are dropped at once. */
export const FACE_CANDIDATE_SCORE = 0.5;
/** A human face needs back-256's score at least this… */
export const FACE_MIN_SCORE = 0.6;
/** …and front-128's at least this: above every animal (0.76), below every person photographed alone (0.82). */
export const FACE_MIN_CONFIRM = 0.8;
/** Beside a human face, a find counts as another person from this confirm on (refusing needs less proof). */
export const FACE_OTHER_MIN_CONFIRM = 0.7;
/** A find with more than this share of its box inside a larger face's box is that face seen twice. */
export const FACE_SAME_PERSON_INSIDE = 0.5;

/**
 * Smile ID's own selfie screen (smileidentity/android@e94a91a, SmartSelfieV2ViewModel.kt) ignores
 * faces under 3 % of the frame ("if user is in a crowded location"): a bystander far behind does not
 * make a selfie a group photo.
 */
export const FACE_IGNORE_SMALLER_THAN = 0.03;
/**
 * …but in a group photo taken from afar every face is small: a face at least this share of the
 * main face's area (about a third of its width) counts too. Measured: the other faces of 10 group
 * photos are 13–100 % of their main face (a mariachi band: 13–36 %), a bystander behind a woman in
 * a portrait 9.9 %; 0.25 let the band through as one person.
 */
export const FACE_IGNORE_SMALLER_THAN_MAIN = 0.1;
/** A face smaller than this share of the photo is "too small" (that screen's MIN_FACE_FILL_THRESHOLD, 0.1). */
export const FACE_MIN_AREA = 0.1;
/** The face's centre must lie in the middle 1/1.3 of the photo (that screen's VIEWFINDER_SCALE, 1.3). */
export const FACE_VIEWFINDER_SCALE = 1.3;
/** A face box may reach this share of its own size past the frame before the face is "cut off". */
export const FACE_EDGE_TOLERANCE = 0.05;
/** Tilt beyond this many degrees is "rolled" (that screen's MAX_FACE_ROLL_THRESHOLD, 30). */
export const FACE_MAX_ROLL_DEGREES = 30;
/**
 * Nose offset from the eyes' midpoint, along the eye line, in eye distances, beyond which the head
 * is "turned". That screen allows 15° of yaw (MAX_FACE_YAW_THRESHOLD). Measured on the photos above:
 * 22 faces looking at the camera 0.00–0.08; heads turned about 15° 0.13–0.15, about 20° 0.20–0.24,
 * about 30° 0.29; a yawning head thrown back and turned 0.57; the cameraman (fixtures/faces/
 * face-turned.jpg) 0.73. 0.2 warns from about 20° on: a little more lenient than the live screen,
 * as this is an estimate from five points.
 */
export const FACE_MAX_YAW_RATIO = 0.2;

/** For `smile selfie check --help`: every check and its threshold, in one place. */
export const SELFIE_THRESHOLDS_HELP = `Checks (errors stop the submission with exit 4; warnings are shown and it goes on):
  errors
    empty_file          the file has 0 bytes
    unreadable          missing, a directory or device, or no permission
    file_too_large      larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB (not read)
    not_an_image        text, HTML, PDF or unknown bytes
    unsupported_format  an image format that cannot be converted (HEIC, SVG, BMP, JPEG 2000 ...)
    truncated           the file ends before the image data does
    corrupt             damaged image data
    animated            more than one frame (GIF, WebP, AVIF)
    multi_page          more than one page (TIFF)
    too_many_pixels     more than ${MAX_INPUT_PIXELS / 1_000_000} megapixels (refused before decoding)
    too_small           shorter side under ${MIN_SHORT_SIDE} px
    no_face             no human face found (also looked for turned 90°, 180°, 270°)
    multiple_faces      more than one face: another face counts when it is at least ${FACE_IGNORE_SMALLER_THAN * 100} % of the
                        photo or ${FACE_IGNORE_SMALLER_THAN_MAIN * 100} % of the main face's size (smaller ones: bystanders far behind)
  warnings
    too_dark            mean brightness under ${MIN_MEAN_LUMA} of 255
    too_bright          mean brightness over ${MAX_MEAN_LUMA} of 255
    blurry              variance of the Laplacian under ${MIN_LAPLACIAN_VARIANCE} (on a copy scaled to ${STATS_SIZE} px,
                        scaled up for photos darker than mid-grey)
    greyscale           colourfulness under ${MIN_COLOURFULNESS} (Hasler-Suesstrunk)
    exif_rotated        EXIF orientation other than 1 (applied before upload)
    large_file          larger than ${LARGE_FILE_BYTES / 1024 / 1024} MiB (re-encoded before upload)
    low_resolution      long side under ${MIN_LONG_SIDE.selfie} px (liveness frames: ${MIN_LONG_SIDE.liveness} px)
    transparency        transparent pixels (flattened onto white)
    colour_space        CMYK or another non-RGB colour space (converted to sRGB)
    extension_mismatch  the file name says one format, the content is another
    face_too_small      the face is under ${FACE_MIN_AREA * 100} % of the photo's area
    face_cut_off        part of the face is outside the photo
    face_off_centre     the face's centre is outside the middle ${Math.round(100 / FACE_VIEWFINDER_SCALE)} % of the photo
    face_turned         the head is turned to the side (nose off the eyes' midpoint by over ${FACE_MAX_YAW_RATIO} × the eye distance)
    face_rolled         the head is tilted over ${FACE_MAX_ROLL_DEGREES}°, or the photo is on its side or upside down
    face_check_skipped  --skip-face-check was given: the faces were not looked for
    face_check_unavailable  the face detector cannot run on this machine (the other checks still apply)
Liveness frames (--liveness) are checked for no_face and multiple_faces only. Faces are found by
MediaPipe BlazeFace, on this machine, offline; \`smile explain CODE\` says more about any code.
What is sent: a JPEG, EXIF orientation applied, metadata stripped, sRGB, long side at most
${MAX_LONG_SIDE.selfie} px (liveness frames ${MAX_LONG_SIDE.liveness} px). A file that already is such a JPEG is sent byte for byte.`;
