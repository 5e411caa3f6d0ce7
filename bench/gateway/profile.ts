/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and lists where the process spent its time:
 * self time per function of our own code (src/), and per area (a package, Node internals, GC, idle).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

/** Self times with their share of the busy (non-idle) time. */
export function summarise(file: string, root: string, top = 15): { ours: SelfTime[]; areas: SelfTime[]; all: SelfTime[]; busyMs: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const msPerSample = totalMs / Math.max(1, profile.samples.length);
  const ours = new Map<string, number>();
  const areas = new Map<string, number>();
  const all = new Map<string, number>();
  for (const n of profile.nodes) {
    const ms = (n.hitCount ?? 0) * msPerSample;
    if (ms === 0) continue;
    const { functionName, url } = n.callFrame;
    const area = areaOf(url, functionName, root);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    if (area !== '(idle)') {
      const where = `${functionName || '(anonymous)'}  ${area === 'src (Tollgate)' ? url.slice(url.indexOf('/src/') + 1) : area}`;
      all.set(where, (all.get(where) ?? 0) + ms);
    }
    if (area === 'src (Tollgate)') {
      const name = `${functionName || '(anonymous)'}  ${url.slice(url.indexOf('/src/') + 1)}`;
      ours.set(name, (ours.get(name) ?? 0) + ms);
    }
  }
  const busyMs = totalMs - (areas.get('(idle)') ?? 0);
  areas.delete('(idle)');
  const rank = (m: Map<string, number>, n: number): SelfTime[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms, share: ms / busyMs }));
  return { ours: rank(ours, top), areas: rank(areas, 12), all: rank(all, top), busyMs };
}

function areaOf(url: string, functionName: string, root: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes(`${root}/src/`)) return 'src (Tollgate)';
  if (url.includes(`${root}/bench/`)) return 'bench';
  return 'other';
}
