/**
 * A canvas to draw a digit on, read back as the 8x8 image the digits models take: the ink's
 * bounding box is scaled (keeping its aspect) into the middle of the grid, as the digits set was
 * made, and each cell's average brightness becomes a pixel in [0, 1].
 */
export class DrawPad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;
  private inked = false;
  constructor(readonly canvas: HTMLCanvasElement, onStroke: () => void) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    const at = (e: PointerEvent) => {
      const r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * (canvas.width / r.width), (e.clientY - r.top) * (canvas.height / r.height)] as const;
    };
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      const [x, y] = at(e);
      this.ctx.beginPath();
      this.ctx.moveTo(x, y);
      this.line(x, y);
    });
    canvas.addEventListener('pointermove', (e) => { if (this.drawing) { const [x, y] = at(e); this.line(x, y); } });
    const end = () => { if (this.drawing) { this.drawing = false; onStroke(); } };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointerleave', end);
  }
  private line(x: number, y: number): void {
    const c = this.ctx;
    c.lineTo(x, y); c.stroke(); c.beginPath(); c.moveTo(x, y);
    this.inked = true;
  }
  get empty(): boolean { return !this.inked; }
  clear(): void {
    const c = this.ctx;
    c.fillStyle = '#000'; c.fillRect(0, 0, this.canvas.width, this.canvas.height);
    c.strokeStyle = '#fff'; c.lineWidth = this.canvas.width / 11; c.lineCap = 'round'; c.lineJoin = 'round';
    this.inked = false;
  }
  /** Shows an 8x8 image (values in [0, 1]) on the pad, as if drawn. */
  show(pixels: ArrayLike<number>): void {
    const s = this.canvas.width / 8;
    for (let i = 0; i < 64; i++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i]!)));
      this.ctx.fillStyle = `rgb(${v},${v},${v})`;
      this.ctx.fillRect((i % 8) * s, Math.floor(i / 8) * s, s, s);
    }
    this.inked = true;
  }
  /** The drawing as 64 values in [0, 1], row-major. */
  pixels(): Float32Array {
    const W = this.canvas.width, H = this.canvas.height;
    const img = this.ctx.getImageData(0, 0, W, H).data;
    let x0 = W, y0 = H, x1 = -1, y1 = -1;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      if (img[4 * (y * W + x)]! <= 40) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const out = new Float32Array(64);
    if (x1 < 0) return out;
    // The ink's box, made square around its centre, mapped onto the 8x8 grid with a half-cell margin.
    const side = Math.max(x1 - x0, y1 - y0) + 1, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, scale = side / 7;
    const sums = new Float32Array(64), counts = new Float32Array(64);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const gx = Math.floor((x - cx) / scale + 4), gy = Math.floor((y - cy) / scale + 4);
      if (gx < 0 || gx > 7 || gy < 0 || gy > 7) continue;
      sums[gy * 8 + gx]! += img[4 * (y * W + x)]! / 255;
      counts[gy * 8 + gx]!++;
    }
    for (let i = 0; i < 64; i++) out[i] = counts[i] ? Math.min(1, (1.6 * sums[i]!) / counts[i]!) : 0;
    return out;
  }
}
