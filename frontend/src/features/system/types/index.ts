export interface HealthReply {
  status: string;
}

export interface ReadyReply {
  status: string;
  checks: Record<string, string>;
}

export interface PluginInfo {
  name: string;
  version: string;
  kind: string;
  abi?: number;
  route_count?: number;
  state: string;
  summary?: string;
  depends?: string[];
  optional?: boolean;
  error?: string | null;
}
