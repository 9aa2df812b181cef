/**
 * What the CUDA path of @tensorflow/tfjs-node-gpu 4.22 needs, checked without
 * loading it: the package, an NVIDIA driver (nvidia-smi), and the CUDA 11.2 and
 * cuDNN 8.1 libraries libtensorflow 2.9 links against. tfjs-node-gpu quietly runs on
 * the CPU when libcudnn is missing (tfjs issue 8269); mtl reports it instead.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface LibraryCheck {
  name: string;
  /** What it is, for messages. */
  role: string;
  path?: string;
}

export interface GpuReport {
  packageInstalled: boolean;
  nvidiaSmi: { found: boolean; gpus: string[]; driver?: string; error?: string };
  libraries: LibraryCheck[];
  /** Each problem with what to do about it. */
  problems: { problem: string; fix: string }[];
}

const REQUIRED_LIBRARIES: Omit<LibraryCheck, 'path'>[] = [
  { name: 'libcudart.so.11.0', role: 'CUDA 11.2 runtime' },
  { name: 'libcublas.so.11', role: 'cuBLAS (CUDA 11)' },
  { name: 'libcudnn.so.8', role: 'cuDNN 8.1' },
];

function libraryDirs(): string[] {
  const fromEnv = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  return [...fromEnv, '/usr/local/cuda/lib64', '/usr/local/cuda-11.2/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib'];
}

function ldconfigCache(): string {
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      return execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // try the next location
    }
  }
  return '';
}

export function findLibrary(name: string, cache = ldconfigCache()): string | undefined {
  for (const dir of libraryDirs()) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  const line = cache.split('\n').find((l) => l.trim().startsWith(`${name} `));
  return line?.split('=>')[1]?.trim();
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

export function checkGpuEnvironment(): GpuReport {
  const packageInstalled = isInstalled('@tensorflow/tfjs-node-gpu');
  const nvidiaSmi: GpuReport['nvidiaSmi'] = { found: false, gpus: [] };
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10000,
    });
    nvidiaSmi.found = true;
    nvidiaSmi.gpus = out.trim().split('\n').filter(Boolean);
    nvidiaSmi.driver = nvidiaSmi.gpus[0]?.split(',')[1]?.trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    nvidiaSmi.error = err.code === 'ENOENT' ? 'nvidia-smi not found' : String(err.stderr || err.message).split('\n')[0];
  }
  const cache = ldconfigCache();
  const libraries = REQUIRED_LIBRARIES.map((lib) => ({ ...lib, path: findLibrary(lib.name, cache) }));

  const problems: GpuReport['problems'] = [];
  if (!nvidiaSmi.found) {
    problems.push({
      problem: `no NVIDIA driver or GPU (${nvidiaSmi.error ?? 'nvidia-smi found no GPU'})`,
      fix: 'install the NVIDIA driver on a machine with a CUDA GPU; in Docker, run with --gpus all and the NVIDIA container toolkit',
    });
  }
  if (!packageInstalled) {
    problems.push({
      problem: '@tensorflow/tfjs-node-gpu is not installed (its install script downloads libtensorflow, which fails without internet)',
      fix: 'with internet access run: npm install @tensorflow/tfjs-node-gpu@4.22.0 (or use the Dockerfile in this repository)',
    });
  }
  for (const lib of libraries.filter((l) => !l.path)) {
    problems.push({
      problem: `${lib.name} (${lib.role}) not found`,
      fix:
        lib.name.startsWith('libcudnn')
          ? 'install cuDNN 8.1 for CUDA 11 (e.g. the nvidia/cuda:11.2.2-cudnn8 images) and put its lib folder on LD_LIBRARY_PATH; without it tfjs-node-gpu silently falls back to the CPU'
          : 'install the CUDA 11.2 toolkit or runtime (tfjs-node-gpu 4.22 links against CUDA 11; newer CUDA majors do not work) and put /usr/local/cuda-11.2/lib64 on LD_LIBRARY_PATH',
    });
  }
  return { packageInstalled, nvidiaSmi, libraries, problems };
}

/** The GPU problems as lines of advice, for `--device gpu` failures and `mtl doctor`. */
export function gpuAdvice(report: GpuReport): string {
  return report.problems.map((p) => `- ${p.problem}: ${p.fix}`).join('\n');
}
