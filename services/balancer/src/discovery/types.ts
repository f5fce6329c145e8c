// What every discovery source (static list, DNS, Kubernetes EndpointSlices) hands the balancer.

export interface BackendTarget {
  /** Stable id, e.g. "10.42.0.7:3000" or the URL origin. */
  id: string;
  /** Origin requests go to, e.g. "http://10.42.0.7:3000". */
  url: string;
  /** Who serves: pod or node name, shown in X-Served-By. */
  name: string;
  /** Terminating endpoint: finish its in-flight requests, send it no new ones. */
  draining: boolean;
}

export interface Discovery {
  /** Starts discovery; onChange receives the full current list every time it changes. */
  start(onChange: (targets: BackendTarget[]) => void): Promise<void>;
  stop(): Promise<void>;
}
