// The map: the imported road network drawn as vectors on a canvas (offline, no tiles
// needed; an operator may add a raster tile background), with threat zones, routes and
// live positions on top. Pan by dragging or with the arrow keys, zoom with the wheel, the
// +/− buttons or the +/− keys; with the keyboard, Enter or Space clicks at the crosshair in
// the centre (to place a site, add a zone's corner or pick a route). Road names appear when
// zoomed in. OpenStreetMap attribution is always shown.

import { get } from './api.js';
import { h } from './ui.js';

let roadsPromise = null;
let configPromise = null;
function mapConfig() {
  if (!configPromise) configPromise = get('/api/v1/map/config').catch(() => ({ tile_url: null }));
  return configPromise;
}

function roads() {
  if (!roadsPromise) roadsPromise = get('/api/v1/map/roads').catch((e) => { roadsPromise = null; throw e; });
  return roadsPromise;
}

const TILE = 256;
const mercX = (lon) => (lon + 180) / 360;
const mercY = (lat) => {
  const s = Math.sin((lat * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
};
const unX = (x) => x * 360 - 180;
const unY = (y) => (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;

export const SEVERITY_COLOURS = ['#9aa5b1', '#f2c94c', '#f2994a', '#eb5757', '#b01e1e', '#6b0f0f'];

export class MapView {
  constructor(container, { height = 480, label = 'Map' } = {}) {
    this.zones = [];
    this.routes = [];
    this.markers = [];
    this.sketch = null;
    this.listeners = { click: [], routeclick: [] };
    this.zoom = 14;
    this.center = [67.0, 24.86];
    this.label = label;
    this.canvas = h('canvas', { tabindex: 0, role: 'img', 'aria-label': label, class: 'map-canvas' });
    this.status = h('div', { class: 'map-status', 'aria-live': 'polite' }, 'Loading the road network…');
    const zin = h('button', { type: 'button', 'aria-label': 'Zoom in', title: 'Zoom in' }, '+');
    const zout = h('button', { type: 'button', 'aria-label': 'Zoom out', title: 'Zoom out' }, '−');
    zin.addEventListener('click', () => this.zoomBy(1));
    zout.addEventListener('click', () => this.zoomBy(-1));
    this.attribution = h('div', { class: 'map-attribution' }, '© OpenStreetMap contributors (ODbL)');
    // For tests and assistive tooling: the view object and what is drawn.
    this.canvas.jsmsMap = this;
    this.el = h('div', { class: 'map', style: `height:${height}px` }, this.canvas,
      h('div', { class: 'map-zoom' }, zin, zout), this.status, this.attribution);
    container.append(this.el);
    this.bind();
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this.el);
    this.tiles = new Map();
    mapConfig().then((c) => {
      if (c.tile_url) { this.tileUrl = c.tile_url; this.draw(); }
    });
    roads().then((r) => {
      this.net = r;
      this.attribution.textContent = r.attribution;
      this.status.textContent = '';
      if (!this.fitted) this.fit(r.bbox);
      this.draw();
    }).catch((e) => { this.status.textContent = `Road network unavailable: ${e.message}`; });
  }

  on(event, f) { this.listeners[event].push(f); }

  destroy() { this.resizeObserver.disconnect(); }

  fit([minLon, minLat, maxLon, maxLat]) {
    this.fitted = true;
    const w = this.el.clientWidth || 800;
    const hgt = this.el.clientHeight || 480;
    this.center = [(minLon + maxLon) / 2, (minLat + maxLat) / 2];
    const dx = Math.max(mercX(maxLon) - mercX(minLon), 1e-9);
    const dy = Math.max(mercY(minLat) - mercY(maxLat), 1e-9);
    this.zoom = Math.max(2, Math.min(19, Math.log2(Math.min(w / dx, hgt / dy) / TILE) - 0.1));
    this.draw();
  }

  fitPoints(points) {
    if (!points.length) return;
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    const pad = 0.002;
    this.fit([Math.min(...lons) - pad, Math.min(...lats) - pad, Math.max(...lons) + pad, Math.max(...lats) + pad]);
  }

  scale() { return TILE * 2 ** this.zoom; }

  toScreen(lon, lat) {
    const s = this.scale();
    const w = this.canvas.width / this.dpr;
    const hgt = this.canvas.height / this.dpr;
    return [(mercX(lon) - mercX(this.center[0])) * s + w / 2, (mercY(lat) - mercY(this.center[1])) * s + hgt / 2];
  }

  toLonLat(x, y) {
    const s = this.scale();
    const w = this.canvas.width / this.dpr;
    const hgt = this.canvas.height / this.dpr;
    return [unX(mercX(this.center[0]) + (x - w / 2) / s), unY(mercY(this.center[1]) + (y - hgt / 2) / s)];
  }

  zoomBy(d, at) {
    const before = at ? this.toLonLat(...at) : null;
    this.zoom = Math.max(2, Math.min(20, this.zoom + d));
    if (before) {
      const after = this.toLonLat(...at);
      this.center = [this.center[0] + before[0] - after[0], this.center[1] + before[1] - after[1]];
    }
    this.draw();
  }

  panBy(dx, dy) {
    const [x, y] = this.toScreen(...this.center);
    this.center = this.toLonLat(x - dx, y - dy);
    this.draw();
  }

  bind() {
    let drag = null;
    this.canvas.addEventListener('pointerdown', (e) => {
      drag = { x: e.offsetX, y: e.offsetY, moved: false };
      this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.offsetX - drag.x;
      const dy = e.offsetY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        this.panBy(dx, dy);
        drag.x = e.offsetX;
        drag.y = e.offsetY;
      }
    });
    this.canvas.addEventListener('pointerup', (e) => {
      if (drag && !drag.moved) this.click(e.offsetX, e.offsetY);
      drag = null;
    });
    this.canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoomBy(e.deltaY < 0 ? 0.5 : -0.5, [e.offsetX, e.offsetY]);
    }, { passive: false });
    this.canvas.addEventListener('focus', () => this.draw());
    this.canvas.addEventListener('blur', () => this.draw());
    this.canvas.addEventListener('keydown', (e) => {
      const step = 80;
      const keys = {
        ArrowLeft: () => this.panBy(step, 0), ArrowRight: () => this.panBy(-step, 0),
        ArrowUp: () => this.panBy(0, step), ArrowDown: () => this.panBy(0, -step),
        '+': () => this.zoomBy(1), '=': () => this.zoomBy(1), '-': () => this.zoomBy(-1),
        // A click at the crosshair (the centre): place a site, add a zone's corner, pick a route.
        Enter: () => this.click(this.canvas.width / this.dpr / 2, this.canvas.height / this.dpr / 2),
        ' ': () => this.click(this.canvas.width / this.dpr / 2, this.canvas.height / this.dpr / 2),
      };
      if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
    });
  }

  click(x, y) {
    const lonlat = this.toLonLat(x, y);
    const hit = this.routeAt(x, y);
    if (hit !== null) for (const f of this.listeners.routeclick) f(hit);
    for (const f of this.listeners.click) f(lonlat);
  }

  routeAt(x, y) {
    let best = null;
    let bestD = 10;
    this.routes.forEach((r, i) => {
      const pts = r.points.map((p) => this.toScreen(p[0], p[1]));
      for (let k = 1; k < pts.length; k++) {
        const d = segDist([x, y], pts[k - 1], pts[k]);
        if (d < bestD) { bestD = d; best = i; }
      }
    });
    return best;
  }

  draw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.paint(); });
  }

  paint() {
    const dpr = window.devicePixelRatio || 1;
    this.dpr = dpr;
    const w = this.el.clientWidth;
    const hgt = this.el.clientHeight;
    if (!w || !hgt) return;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(hgt * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(hgt * dpr);
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${hgt}px`;
    }
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#f4f1ea';
    ctx.fillRect(0, 0, w, hgt);
    if (this.tileUrl) this.paintTiles(ctx, w, hgt);
    if (this.net) {
      // Over a raster background the network is drawn faintly: it is what routes use.
      ctx.save();
      if (this.tileUrl) ctx.globalAlpha = 0.3;
      this.paintRoads(ctx, w, hgt);
      ctx.restore();
    }
    for (const z of this.zones) this.paintZone(ctx, z);
    this.routes.forEach((r) => this.paintLine(ctx, r.points, r.colour || '#2d6cdf', r.width || 4, r.dashed));
    if (this.sketch) this.paintSketch(ctx);
    for (const m of this.markers) this.paintMarker(ctx, m);
    if (document.activeElement === this.canvas) {
      // The keyboard's crosshair: arrows move the map under it, Enter clicks there.
      ctx.save();
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(w / 2 - 10, hgt / 2); ctx.lineTo(w / 2 + 10, hgt / 2);
      ctx.moveTo(w / 2, hgt / 2 - 10); ctx.lineTo(w / 2, hgt / 2 + 10);
      ctx.stroke();
      ctx.restore();
    }
    Object.assign(this.canvas.dataset, {
      zones: this.zones.length, routes: this.routes.length, markers: this.markers.length, roads: this.net ? 'yes' : 'no',
    });
    this.canvas.setAttribute('aria-label', `${this.label}: ${this.zones.length} zones, ${this.routes.length} routes, ${this.markers.length} positions`);
  }

  // The operator's raster tiles (the `tile_url` setting), at the nearest whole zoom.
  paintTiles(ctx, w, hgt) {
    const z = Math.max(0, Math.min(19, Math.round(this.zoom)));
    const n = 2 ** z;
    const size = TILE * 2 ** (this.zoom - z);
    const cx = mercX(this.center[0]) * n;
    const cy = mercY(this.center[1]) * n;
    for (let x = Math.floor(cx - w / 2 / size); x <= Math.floor(cx + w / 2 / size); x++) {
      for (let y = Math.floor(cy - hgt / 2 / size); y <= Math.floor(cy + hgt / 2 / size); y++) {
        if (y < 0 || y >= n) continue;
        const img = this.tile(z, ((x % n) + n) % n, y);
        if (img.complete && img.naturalWidth) ctx.drawImage(img, w / 2 + (x - cx) * size, hgt / 2 + (y - cy) * size, size + 0.5, size + 0.5);
      }
    }
  }

  tile(z, x, y) {
    const key = `${z}/${x}/${y}`;
    let img = this.tiles.get(key);
    if (!img) {
      if (this.tiles.size > 512) this.tiles.clear();
      img = new Image();
      img.onload = () => this.draw();
      img.src = this.tileUrl.replace('{z}', z).replace('{x}', x).replace('{y}', y);
      this.tiles.set(key, img);
    }
    return img;
  }

  paintRoads(ctx, w, hgt) {
    const { nodes, segments, names } = this.net;
    const n = nodes.length / 2;
    const xs = new Float32Array(n);
    const ys = new Float32Array(n);
    const s = this.scale();
    const cx = mercX(this.center[0]);
    const cy = mercY(this.center[1]);
    for (let i = 0; i < n; i++) {
      xs[i] = (mercX(nodes[2 * i]) - cx) * s + w / 2;
      ys[i] = (mercY(nodes[2 * i + 1]) - cy) * s + hgt / 2;
    }
    ctx.strokeStyle = '#ffffff';
    ctx.lineCap = 'round';
    ctx.lineWidth = Math.max(1, (this.zoom - 11) * 1.2);
    ctx.beginPath();
    const labels = [];
    for (let k = 0; k < segments.length; k += 3) {
      const a = segments[k];
      const b = segments[k + 1];
      const x1 = xs[a]; const y1 = ys[a]; const x2 = xs[b]; const y2 = ys[b];
      if ((x1 < 0 && x2 < 0) || (x1 > w && x2 > w) || (y1 < 0 && y2 < 0) || (y1 > hgt && y2 > hgt)) continue;
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
      if (this.zoom >= 16 && !this.tileUrl && segments[k + 2]) labels.push([x1, y1, x2, y2, names[segments[k + 2]]]);
    }
    ctx.save();
    ctx.strokeStyle = '#c9c2b4';
    ctx.lineWidth += 1.5;
    ctx.stroke();
    ctx.restore();
    ctx.stroke();
    // Names along the longer segments, one per name and screen cell.
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#4a4a4a';
    const used = new Set();
    for (const [x1, y1, x2, y2, name] of labels) {
      const len = Math.hypot(x2 - x1, y2 - y1);
      const width = ctx.measureText(name).width;
      if (len < width + 10) continue;
      const key = `${name}:${Math.floor((x1 + x2) / 300)}:${Math.floor((y1 + y2) / 300)}`;
      if (used.has(key)) continue;
      used.add(key);
      let angle = Math.atan2(y2 - y1, x2 - x1);
      if (angle > Math.PI / 2 || angle < -Math.PI / 2) angle += Math.PI;
      ctx.save();
      ctx.translate((x1 + x2) / 2, (y1 + y2) / 2);
      ctx.rotate(angle);
      ctx.fillText(name, -width / 2, -3);
      ctx.restore();
    }
  }

  paintZone(ctx, z) {
    const colour = SEVERITY_COLOURS[z.severity] || '#eb5757';
    ctx.save();
    ctx.fillStyle = colour + '55';
    ctx.strokeStyle = colour;
    ctx.lineWidth = z.selected ? 3 : 1.5;
    ctx.beginPath();
    if (z.circle) {
      const [x, y] = this.toScreen(z.circle.center[0], z.circle.center[1]);
      const metresPerPx = (40075016.686 * Math.cos((z.circle.center[1] * Math.PI) / 180)) / this.scale();
      ctx.arc(x, y, z.circle.radius_m / metresPerPx, 0, 2 * Math.PI);
    } else {
      for (const ring of z.rings || []) {
        ring.forEach((p, i) => {
          const [x, y] = this.toScreen(p[0], p[1]);
          if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        });
        ctx.closePath();
      }
    }
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  }

  paintLine(ctx, points, colour, width, dashed) {
    if (!points || points.length < 2) return;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    if (dashed) ctx.setLineDash([8, 6]);
    ctx.beginPath();
    points.forEach((p, i) => {
      const [x, y] = this.toScreen(p[0], p[1]);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.restore();
  }

  paintSketch(ctx) {
    const s = this.sketch;
    if (s.kind === 'circle' && s.center) {
      this.paintZone(ctx, { severity: s.severity, circle: { center: s.center, radius_m: s.radius_m } });
    } else if (s.kind === 'polygon' && s.points.length) {
      this.paintLine(ctx, s.points.concat(s.points.length > 2 ? [s.points[0]] : []), '#111', 2, true);
      for (const p of s.points) this.paintMarker(ctx, { lon: p[0], lat: p[1], colour: '#111', size: 4 });
    }
  }

  paintMarker(ctx, m) {
    const [x, y] = this.toScreen(m.lon, m.lat);
    ctx.save();
    ctx.fillStyle = m.colour || '#1b5e20';
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(x, y, m.size || 7, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    if (m.label) {
      ctx.font = 'bold 12px system-ui, sans-serif';
      ctx.fillStyle = '#111';
      ctx.fillText(m.label, x + 10, y - 8);
    }
    ctx.restore();
  }
}

function segDist(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const l = dx * dx + dy * dy;
  let t = l ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

// A zone feature (GeoJSON) as a drawable zone.
export function zoneShape(f) {
  const g = f.geometry;
  const p = f.properties;
  if (g.type === 'Point') return { id: f.id, severity: p.severity, circle: { center: g.coordinates, radius_m: p.radius_m } };
  return { id: f.id, severity: p.severity, rings: g.coordinates };
}
