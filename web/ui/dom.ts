/**
 * The few DOM helpers the page needs: typed lookups that fail loudly when the
 * HTML and the code disagree, element creation, and showing or hiding a
 * message element.
 */

/** The element with this id, checked to be of the expected class. */
export function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`page markup: #${id} is missing or not a ${type.name}`);
  return element;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  Object.assign(element, props);
  element.append(...children);
  return element;
}

/** Shows `text` in a message element, or hides it when text is empty. */
export function showMessage(element: HTMLElement, text: string | undefined): void {
  element.textContent = text ?? '';
  element.hidden = !text;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A 2D context, or a clear error (a browser can refuse one under memory pressure). */
export function context2d(canvas: HTMLCanvasElement, options?: CanvasRenderingContext2DSettings): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d', options);
  if (!ctx) throw new Error(`could not get a 2D context for canvas #${canvas.id}`);
  return ctx;
}
