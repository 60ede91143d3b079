import { createContext, useContext } from 'react';
import { dictionaries, type Dict } from '../i18n';

export const I18nContext = createContext<Dict>(dictionaries.de);

export function useT(): Dict {
  return useContext(I18nContext);
}
