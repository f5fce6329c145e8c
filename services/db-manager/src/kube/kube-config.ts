// Where the db-manager's Kubernetes client finds its API server and credentials.
import { KubeConfig } from '@kubernetes/client-node';

/** Loads a client config from a kubeconfig file, or the default chain (KUBECONFIG, ~/.kube/config, in-cluster service account). */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}
