// Types of client/launch.js (plain JavaScript so that checking a bundle never loads a compiler).
export declare const BUILD_MANIFEST: string;
export declare function bundlePath(name: string): string;
export declare function isBundleCurrent(name: string, root?: string): boolean;
export declare function launch(name: string): Promise<void>;
