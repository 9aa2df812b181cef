"""numpy's peer of bench/load.ts: np.loadtxt of the six numeric columns of the bench table.

    /usr/bin/python3 bench/peer_load.py TABLE.csv

Prints one JSON line: seconds, the RSS the load added (MB) and the process's peak RSS (MB).
"""
import json
import resource
import sys
import time

import numpy as np


def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main():
    path = sys.argv[1]
    before = rss_mb()
    start = time.perf_counter()
    values = np.loadtxt(path, delimiter=',', skiprows=1, usecols=range(6), dtype=np.float32)
    seconds = time.perf_counter() - start
    after = rss_mb()
    assert values.shape[1] == 6
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'seconds': seconds, 'rss_delta_mb': after - before, 'peak_rss_mb': peak, 'rows': int(values.shape[0])}))


if __name__ == '__main__':
    main()
