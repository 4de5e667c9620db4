import { api } from '@/shared/api/instance';
import type { StorageConfig, StorageList, TestResult } from '../types';

const S = '/api/v1/storage';
const enc = encodeURIComponent;

export const storageService = {
  async list(): Promise<StorageList> {
    return (await api.get<StorageList>(S)).data;
  },
  async create(body: Partial<StorageConfig>): Promise<StorageConfig> {
    return (await api.post<StorageConfig>(S, body)).data;
  },
  async update(id: string, body: Partial<StorageConfig>): Promise<StorageConfig> {
    return (await api.patch<StorageConfig>(`${S}/${enc(id)}`, body)).data;
  },
  async remove(id: string): Promise<void> {
    await api.delete(`${S}/${enc(id)}`);
  },
  async test(id: string): Promise<TestResult> {
    return (await api.post<TestResult>(`${S}/${enc(id)}/test`)).data;
  },
};
