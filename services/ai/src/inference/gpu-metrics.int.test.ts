import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, startService, type Platform, type RunningService } from '@datalab/platform';
import { silentLogger, testEnv, testPlatform } from '../../../../test/helpers.ts';
import { aiService } from '../definition.ts';
import { createGpuMetrics, parseNvidiaSmi } from './gpu-metrics.ts';

const MIB = 1024 * 1024;
/**
 * Readings published from real machines, in this query's column order
 * (index, utilization.gpu, memory.used, memory.total; noheader, nounits):
 * a Tesla T4 training (98 %, 7234 of 15360 MiB), an idle RTX 4090 (0 %, 678 of
 * 49140 MiB), and a GB10, whose unified memory nvidia-smi reports as [N/A].
 */
const T4 = '0, 98, 7234, 15360';
const RTX_4090 = '0, 0, 678, 49140';
const GB10 = '0, 5, [N/A], [N/A]';

describe('nvidia-smi output', () => {
  it('parses one line per GPU into ratios and bytes, the GPU index as its label', () => {
    expect(parseNvidiaSmi(`${T4}\n${RTX_4090.replace(/^0/, '1')}\n`)).toEqual([
      { gpu: '0', utilization: 0.98, memoryUsedBytes: 7234 * MIB, memoryTotalBytes: 15360 * MIB },
      { gpu: '1', utilization: 0, memoryUsedBytes: 678 * MIB, memoryTotalBytes: 49140 * MIB },
    ]);
  });

  it('a value the GPU does not report is missing, not zero', () => {
    expect(parseNvidiaSmi(`${GB10}\n`)).toEqual([
      { gpu: '0', utilization: 0.05, memoryUsedBytes: null, memoryTotalBytes: null },
    ]);
    expect(parseNvidiaSmi('0, [Not Supported], 103, 16303\n')[0]!.utilization).toBeNull();
    expect(parseNvidiaSmi('No devices were found\n')).toEqual([]);
  });
});

describe('GPU gauges on the ai-service', () => {
  let platform: Platform;
  let folder: string;
  /** Stands in for the driver's binary on this GPU-less machine: it prints what a real one printed. */
  let fakeSmi: string;
  const services: RunningService[] = [];

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'datalab-smi-'));
    fakeSmi = path.join(folder, 'nvidia-smi');
    await writeFile(fakeSmi, `#!/bin/sh\nprintf '%s\\n' '${T4}' '${GB10.replace(/^0/, '1')}'\n`);
    await chmod(fakeSmi, 0o755);
    platform = await testPlatform();
  });
  afterAll(async () => {
    for (const service of services) await service.close();
    await platform?.close();
    await rm(folder, { recursive: true, force: true });
  });

  async function gpuSeries(env: Record<string, string>): Promise<string[]> {
    const service = await startService(aiService, platform, { env: testEnv(env), port: 0 });
    services.push(service);
    // The first sample is taken as the service starts; give it up to 2 s to land.
    for (let i = 0; i < 20; i++) {
      const lines = (await (await fetch(`${service.url}/metrics`)).text())
        .split('\n')
        .filter((line) => line.startsWith('ai_gpu_'));
      if (lines.length > 0 || i === 19) return lines;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return [];
  }

  it('with CUDA configured and nvidia-smi present, each GPU has its series; unreported values have none', async () => {
    const lines = await gpuSeries({ AI_EXECUTION_PROVIDER: 'cuda', AI_NVIDIA_SMI: fakeSmi });
    const value = (prefix: string) => Number(lines.find((line) => line.startsWith(prefix))?.split(' ')[1]);
    expect(value('ai_gpu_utilization_ratio{gpu="0"')).toBe(0.98);
    expect(value('ai_gpu_memory_used_bytes{gpu="0"')).toBe(7234 * MIB);
    expect(value('ai_gpu_memory_total_bytes{gpu="0"')).toBe(15360 * MIB);
    expect(value('ai_gpu_utilization_ratio{gpu="1"')).toBe(0.05);
    expect(lines.some((line) => line.startsWith('ai_gpu_memory_used_bytes{gpu="1"'))).toBe(false);
  });

  it('without nvidia-smi, or without CUDA configured, there are no GPU series', async () => {
    const missing = path.join(folder, 'no-such-nvidia-smi');
    expect(await gpuSeries({ AI_EXECUTION_PROVIDER: 'cuda', AI_NVIDIA_SMI: missing })).toEqual([]);
    expect(await gpuSeries({ AI_EXECUTION_PROVIDER: 'cpu', AI_NVIDIA_SMI: fakeSmi })).toEqual([]);
  });

  it('a failing nvidia-smi clears the series until it works again', async () => {
    const flaky = path.join(folder, 'flaky-smi');
    const registry = new Registry();
    const gauges = createGpuMetrics({ registry, logger: silentLogger, command: flaky, intervalMs: 1000 });
    const series = async () =>
      (await registry.metrics()).split('\n').filter((line) => line.startsWith('ai_gpu_'));
    await writeFile(flaky, `#!/bin/sh\necho '${T4}'\n`);
    await chmod(flaky, 0o755);
    expect(await gauges.sample()).toBe('sampled');
    expect(await series()).toHaveLength(3);
    // What nvidia-smi prints when the driver is gone.
    await writeFile(
      flaky,
      "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'\nexit 9\n",
    );
    expect(await gauges.sample()).toBe('failed');
    expect(await series()).toEqual([]);
    expect(
      await createGpuMetrics({
        registry: new Registry(),
        logger: silentLogger,
        command: path.join(folder, 'none'),
        intervalMs: 1000,
      }).sample(),
    ).toBe('absent');
  });
});
