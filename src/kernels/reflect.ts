/**
 * What a WGSL entry point binds, read from the source with wgsl_reflect, so
 * bind group layouts never come from a second hand-written table.
 *
 * Convention (all shaders; test/kernels/wgsl-conventions.test.ts): group 0
 * only; inputs are `var<storage, read>`, outputs `var<storage, read_write>`,
 * uniforms `var<uniform>`, numbered in that order from 0. Buffers are bound by
 * name, never by number. Uniform structs hold only u32/i32/f32 scalars and
 * are packed by member name.
 */
import { ResourceType, WgslReflect, type StructInfo } from 'wgsl_reflect/wgsl_reflect.module.js';

export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

export interface EntryBinding {
  name: string;
  binding: number;
  kind: BindingKind;
  /** For uniforms: the struct's name, to pack values into it. */
  structName?: string;
}

export interface EntryReflection {
  entryPoint: string;
  bindings: EntryBinding[];
  /** Null when the size comes from override constants. */
  workgroupSize: [number, number, number] | null;
}

const reflections = new Map<string, WgslReflect>();

function reflectionOf(code: string): WgslReflect {
  let r = reflections.get(code);
  if (!r) {
    r = new WgslReflect(code);
    reflections.set(code, r);
  }
  return r;
}

export function reflectEntry(shaderName: string, code: string, entryPoint: string): EntryReflection {
  const r = reflectionOf(code);
  const fn = r.entry.compute.find((f) => f.name === entryPoint);
  if (!fn) {
    const known = r.entry.compute.map((f) => f.name).join(', ');
    throw new Error(`shader ${shaderName} has no compute entry point "${entryPoint}" (it has: ${known})`);
  }
  const bindings: EntryBinding[] = fn.resources.map((v) => {
    if (v.group !== 0) throw new Error(`shader ${shaderName}: ${v.name} is in group ${v.group}; this engine binds group 0 only`);
    if (v.resourceType === ResourceType.Uniform) return { name: v.name, binding: v.binding, kind: 'uniform' as const, structName: v.type.name };
    if (v.resourceType === ResourceType.Storage) {
      return { name: v.name, binding: v.binding, kind: v.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) };
    }
    throw new Error(`shader ${shaderName}: binding ${v.name} is neither a uniform nor a storage buffer`);
  });
  bindings.sort((a, b) => a.binding - b.binding);
  return { entryPoint, bindings, workgroupSize: fn.workgroupSize };
}

export interface UniformLayout {
  structName: string;
  size: number;
  members: { name: string; offset: number; type: 'u32' | 'i32' | 'f32' }[];
}

export function uniformLayout(shaderName: string, code: string, structName: string): UniformLayout {
  const s: StructInfo | null = reflectionOf(code).getStructInfo(structName);
  if (!s) throw new Error(`shader ${shaderName} has no struct ${structName}`);
  const members = s.members.map((m) => {
    const type = m.type.name;
    if (type !== 'u32' && type !== 'i32' && type !== 'f32') {
      throw new Error(`shader ${shaderName}: uniform member ${structName}.${m.name} is ${type}; only u32/i32/f32 scalars are supported`);
    }
    return { name: m.name, offset: m.offset, type: type as 'u32' | 'i32' | 'f32' };
  });
  // Uniform buffers are sized in multiples of 16 bytes.
  return { structName, size: Math.max(16, Math.ceil(s.size / 16) * 16), members };
}

/** Packs values by member name; every member must be given and no others. */
export function packUniform(layout: UniformLayout, values: Record<string, number>): ArrayBuffer {
  const bytes = new ArrayBuffer(layout.size);
  const view = new DataView(bytes);
  const names = new Set(layout.members.map((m) => m.name));
  for (const key of Object.keys(values)) {
    if (!names.has(key)) throw new Error(`uniform ${layout.structName} has no member "${key}" (members: ${[...names].join(', ')})`);
  }
  for (const m of layout.members) {
    const v = values[m.name];
    if (v === undefined || !Number.isFinite(v)) throw new Error(`uniform ${layout.structName}.${m.name} needs a finite value, got ${v}`);
    if (m.type === 'f32') view.setFloat32(m.offset, v, true);
    else {
      if (!Number.isInteger(v)) throw new Error(`uniform ${layout.structName}.${m.name} is ${m.type} but got ${v}`);
      if (m.type === 'u32') {
        if (v < 0 || v > 0xffffffff) throw new Error(`uniform ${layout.structName}.${m.name} = ${v} is out of u32 range`);
        view.setUint32(m.offset, v, true);
      } else view.setInt32(m.offset, v, true);
    }
  }
  return bytes;
}

/**
 * A module-scope `const NAME: u32|i32 = N;` of a shader, read from its source:
 * where TypeScript must size a grid by a number the WGSL fixes (a tile side,
 * a segment length, an activation code), it reads it here instead of keeping
 * a copy that could drift. Throws if the shader does not define it.
 */
export function wgslConstant(shaderName: string, code: string, name: string): number {
  const match = new RegExp(`^\\s*const\\s+${name}\\s*:\\s*[iu]32\\s*=\\s*(\\d+)[iu]?\\s*;`, 'm').exec(code);
  if (!match) throw new Error(`shaders/${shaderName} defines no integer constant ${name}`);
  return Number(match[1]);
}
