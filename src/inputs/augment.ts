/**
 * Variants of a photograph, for when a run needs more frames than there are photos (fidelity is
 * measured over at least 100 inputs; crops and flips of the photos count, as in ImageNet
 * evaluation). Pure geometry: which region of the photo a variant shows and whether it is mirrored.
 */

export type CropPosition = 'tl' | 'tr' | 'bl' | 'br' | 'c';
const POSITIONS: readonly CropPosition[] = ['tl', 'tr', 'bl', 'br', 'c'];

export interface Variant {
  /** fraction of the largest region of the model's aspect ratio the photo holds (1: the whole centre crop) */
  scale: number;
  position: CropPosition;
  flip: boolean;
  /** what it is, appended to the file name after '#': '' (the photo), 'flip', 'crop-tl', 'crop-tl-flip', 'crop64-c'... */
  suffix: string;
}

/** The first crop scale: 'crop-POS'; later scales say their percentage ('crop64-POS'). */
const FIRST_SCALE = 0.8;
/** Regions smaller than this many pixels a side are not photographs any more. */
const MIN_SIDE = 16;

function variant(scale: number, position: CropPosition, flip: boolean): Variant {
  const crop = scale === 1 ? '' : scale === FIRST_SCALE ? `crop-${position}` : `crop${Math.round(scale * 100)}-${position}`;
  const suffix = [crop, flip ? 'flip' : ''].filter(Boolean).join('-');
  return { scale, position, flip, suffix };
}

/**
 * Every variant, in the order they are added: the photo; 80 % crops at the four corners and the
 * centre; horizontal flips of those six; then smaller crops (64 %, 51 %, ... of the side) at the
 * five positions, each with its flip. Stops at crops of fewer than MIN_SIDE pixels for a photo
 * whose centre crop is `side` pixels on its short side.
 */
export function* variants(side: number): Generator<Variant> {
  const first = [variant(1, 'c', false), ...POSITIONS.map((p) => variant(FIRST_SCALE, p, false))];
  yield* first;
  for (const v of first) yield variant(v.scale, v.position, true);
  for (let scale = FIRST_SCALE * FIRST_SCALE; side * scale >= MIN_SIDE; scale *= FIRST_SCALE) {
    const s = Math.round(scale * 100) / 100;
    for (const p of POSITIONS) {
      yield variant(s, p, false);
      yield variant(s, p, true);
    }
  }
}

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The region of an imgW x imgH photo a variant shows: the largest box of the model's aspect ratio
 * (W:H) the photo holds, times `scale`, at `position` (corners touch the photo's edges).
 */
export function cropRegion(imgW: number, imgH: number, size: { width: number; height: number }, v: Pick<Variant, 'scale' | 'position'>): Region {
  const aspect = size.width / size.height;
  const [fullW, fullH] = imgW / imgH > aspect ? [imgH * aspect, imgH] : [imgW, imgW / aspect];
  const width = Math.max(1, Math.min(imgW, Math.round(fullW * v.scale)));
  const height = Math.max(1, Math.min(imgH, Math.round(fullH * v.scale)));
  const x = { l: 0, c: Math.floor((imgW - width) / 2), r: imgW - width };
  const y = { t: 0, c: Math.floor((imgH - height) / 2), b: imgH - height };
  const pos = v.position;
  const left = pos === 'c' ? x.c : pos[1] === 'l' ? x.l : x.r;
  const top = pos === 'c' ? y.c : pos[0] === 't' ? y.t : y.b;
  return { left, top, width, height };
}
